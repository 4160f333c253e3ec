import BlockStorage
import CStreamingCopy
import Foundation
@testable import LUNBackends
import NIOCore
import NIOPosix
import SCSIEngine
import SCSIProtocol
import Testing

/// The backends on their own: the BlockDevice contract.
@Suite("LUNBackends")
struct LUNBackendTests {
    @Test("RAM: never-written blocks read as zeros and allocate nothing")
    func ramSparseReadsZero() async throws {
        let ram = RAMBlockDevice(blockCount: 1 << 30)
        let data = try await ram.read(at: 12345, blockCount: 3, allocator: ByteBufferAllocator())
        #expect(data.readableBytes == 1536)
        #expect(data.readableBytesView.allSatisfy { $0 == 0 })
        #expect(ram.residentBytes == 0)
    }

    /// 512-byte blocks per RAM disk page.
    private let blocksPerPage = UInt64(RAMBlockDevice.pageSize / 512)

    @Test("RAM: a write spanning pages round-trips; unmap frees whole pages")
    func ramSpanningWrite() async throws {
        let ram = RAMBlockDevice(blockCount: 3 * blocksPerPage)
        let bytes = pattern(blocks: 130)
        let lba = blocksPerPage - 30
        try await ram.write(ByteBuffer(bytes: bytes), at: lba, forceUnitAccess: false)
        let back = try await ram.read(at: lba, blockCount: 130, allocator: ByteBufferAllocator())
        #expect(Array(back.readableBytesView) == bytes)
        #expect(ram.residentBytes == 2 * RAMBlockDevice.pageSize)
        // Across a written page into a never-written one: the rest reads as zeros.
        let tail = try await ram.read(at: 2 * blocksPerPage - 1, blockCount: 2, allocator: ByteBufferAllocator())
        #expect(tail.readableBytes == 1024 && tail.readableBytesView.allSatisfy { $0 == 0 })
        try await ram.unmap(at: 0, blockCount: Int(3 * blocksPerPage))
        #expect(ram.residentBytes == 0)
    }

    /// `bytes` cut at `cuts` (byte offsets that need not fall on block boundaries).
    private func segmented(_ bytes: [UInt8], cuts: [Int]) -> SegmentedBuffer {
        let bounds = [0] + cuts + [bytes.count]
        var data = SegmentedBuffer(ByteBuffer(bytes: bytes[bounds[0]..<bounds[1]]))
        for (start, end) in zip(bounds.dropFirst(), bounds.dropFirst(2)) { data.append(ByteBuffer(bytes: bytes[start..<end])) }
        return data
    }

    @Test("RAM: a write in segments (cut inside blocks) lands back to back, across pages")
    func ramSegmentedWrite() async throws {
        let ram = RAMBlockDevice(blockCount: 3 * blocksPerPage)
        let bytes = pattern(blocks: 40, seed: 5)
        let lba = blocksPerPage - 10
        try await ram.write(segmented(bytes, cuts: [700, 5120, 5121, 9000]), at: lba, forceUnitAccess: false)
        let back = try await ram.read(at: lba, blockCount: 40, allocator: ByteBufferAllocator())
        #expect(Array(back.readableBytesView) == bytes)
        #expect(ram.residentBytes == 2 * RAMBlockDevice.pageSize)
    }

    /// A new file LUN of `blockCount` blocks in the temporary directory, with its path;
    /// the file is removed afterwards.
    private func withTemporaryFile(blockCount: UInt64, _ body: (FileBlockDevice, String) async throws -> Void) async throws {
        let path = NSTemporaryDirectory() + "swiftport-file-\(UUID().uuidString).img"
        defer { unlink(path) }
        try await body(try await FileBlockDevice.open(path: path, blockCount: blockCount, threadPool: .singleton), path)
    }

    @Test("a command reaches its unit by number, peripheral and flat LUN space alike; a gap or a number past the last is not supported")
    func unitsByNumber() async throws {
        try await withTemporaryFile(blockCount: 64) { file, _ in
            let target = TestFixture.target([
                TestFixture.descriptor(lun: 0, device: RAMBlockDevice(blockCount: 2048)),
                TestFixture.descriptor(lun: 5, device: file),
                TestFixture.descriptor(lun: 300, device: RAMBlockDevice(blockCount: 4096)),
            ])
            for (lun, lastLBA) in [(UInt16(0), 2047), (5, 63), (300, 4095)] {
                await TestFixture.ready(target, lun: lun)
                let capacity = await target.execute(TestFixture.command(CDB.readCapacity10, lun: lun))
                #expect(capacity.status == .good)
                #expect(Array(capacity.data.prefix(4)) == UInt32(lastLBA).bigEndianBytes, "LUN \(lun)")
            }
            for absent in [UInt16(7), 301, 16383] {
                let result = await target.execute(TestFixture.command(CDB.readCapacity10, lun: absent))
                #expect(result.senseCode.map { [$0.0, $0.1, $0.2] } == [0x05, 0x25, 0x00], "LUN \(absent): LOGICAL UNIT NOT SUPPORTED")
            }
            try await file.close()
        }
    }

    @Test("file: a write in segments (cut inside blocks) lands back to back")
    func fileSegmentedWrite() async throws {
        try await withTemporaryFile(blockCount: 64) { device, _ in
            let bytes = pattern(blocks: 20, seed: 6)
            try await device.write(segmented(bytes, cuts: [1, 4096, 6000]), at: 3, forceUnitAccess: true)
            let back = try await device.read(at: 3, blockCount: 20, allocator: ByteBufferAllocator())
            #expect(Array(back.readableBytesView) == bytes)
            let before = try await device.read(at: 2, blockCount: 1, allocator: ByteBufferAllocator())
            #expect(before.readableBytesView.allSatisfy { $0 == 0 }, "nothing written before the LBA")
            try await device.close()
        }
    }

    @Test("RAM: a read inside a page keeps what it read when the page is written before it is sent")
    func ramReadSliceIsStable() async throws {
        let ram = RAMBlockDevice(blockCount: blocksPerPage)
        let before = pattern(blocks: 8, seed: 1)
        let after = pattern(blocks: 8, seed: 2)
        try await ram.write(ByteBuffer(bytes: before), at: 16, forceUnitAccess: false)
        let read = try await ram.read(at: 16, blockCount: 8, allocator: ByteBufferAllocator())
        try await ram.write(ByteBuffer(bytes: after), at: 16, forceUnitAccess: false)
        #expect(Array(read.readableBytesView) == before)
        let reread = try await ram.read(at: 16, blockCount: 8, allocator: ByteBufferAllocator())
        #expect(Array(reread.readableBytesView) == after)
        #expect(ram.residentBytes == RAMBlockDevice.pageSize)
    }

    @Test("streaming copy: every length and alignment copies exactly its bytes", arguments: [0, 1, 15, 17, 63])
    func streamingCopy(misalignment: Int) {
        let source = pattern(blocks: 9, seed: 7)
        for count in [0, 1, 1023, 1024, 1025, 4096, 4096 + 37] {
            var destination = [UInt8](repeating: 0xEE, count: source.count + 128)
            destination.withUnsafeMutableBytes { to in
                source.withUnsafeBytes { from in
                    swiftport_streaming_copy(to.baseAddress! + misalignment, from.baseAddress! + 3, count)
                }
            }
            #expect(Array(destination[misalignment..<(misalignment + count)]) == Array(source[3..<(3 + count)]), "count \(count)")
            #expect(destination[..<misalignment].allSatisfy { $0 == 0xEE }, "nothing before, count \(count)")
            #expect(destination[(misalignment + count)...].allSatisfy { $0 == 0xEE }, "nothing after, count \(count)")
        }
    }

    @Test("RAM: the resident bound turns into a write error, not a crash")
    func ramBound() async throws {
        let ram = RAMBlockDevice(blockCount: 2 * blocksPerPage, maximumResidentBytes: UInt64(RAMBlockDevice.pageSize))
        try await ram.write(ByteBuffer(bytes: pattern(blocks: 1)), at: 0, forceUnitAccess: false)
        await #expect(throws: BlockStorageError.self) {
            try await ram.write(ByteBuffer(bytes: pattern(blocks: 1)), at: blocksPerPage, forceUnitAccess: false)
        }
    }

    @Test("file: a thick (preallocated) file has disk space for every block; a thin one has none")
    func filePreallocation() async throws {
        func allocatedBytes(_ path: String) -> Int64 {
            var status = stat()
            return stat(path, &status) == 0 ? Int64(status.st_blocks) * 512 : -1
        }
        let thick = NSTemporaryDirectory() + "swiftport-thick-\(UUID().uuidString).img"
        let thin = NSTemporaryDirectory() + "swiftport-thin-\(UUID().uuidString).img"
        defer { unlink(thick); unlink(thin) }
        let thickDevice = try await FileBlockDevice.open(path: thick, blockCount: 2048, preallocate: true, threadPool: .singleton)
        let thinDevice = try await FileBlockDevice.open(path: thin, blockCount: 2048, threadPool: .singleton)
        #expect(allocatedBytes(thick) >= 2048 * 512)
        #expect(allocatedBytes(thin) < 2048 * 512)
        try await thickDevice.close()
        try await thinDevice.close()
    }

    @Test("file: FUA write, flush and reopen keep the data; size is preserved")
    func fileFUAAndFlush() async throws {
        try await withTemporaryFile(blockCount: 256) { device, path in
            let bytes = pattern(blocks: 2, seed: 3)
            try await device.write(ByteBuffer(bytes: bytes), at: 254, forceUnitAccess: true)
            try await device.flush()
            try await device.unmap(at: 0, blockCount: 8)
            try await device.close()
            let reopened = try await FileBlockDevice.open(path: path, threadPool: .singleton)
            #expect(reopened.geometry.blockSize == 512 && reopened.geometry.blockCount == 256)
            #expect(reopened.geometry.physicalBlockSize % 512 == 0)
            let back = try await reopened.read(at: 254, blockCount: 2, allocator: ByteBufferAllocator())
            #expect(Array(back.readableBytesView) == bytes)
            try await reopened.close()
        }
    }

    // The pool is shut down after open, so a call that still reaches it fails: what
    // succeeds afterwards was served on the caller's thread.
    @Test("file: a tmpfs file is read and written inline, without the pool")
    func memoryBackedFileIsInline() async throws {
        let path = "/dev/shm/swiftport-inline-\(UUID().uuidString).img"
        defer { unlink(path) }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let device = try await FileBlockDevice.open(path: path, blockCount: 64, threadPool: pool)
        try await pool.shutdownGracefully()
        #expect(device.inlineAccess == .memoryBacked)
        let bytes = pattern(blocks: 3, seed: 5)
        try await device.write(ByteBuffer(bytes: bytes), at: 61, forceUnitAccess: true)
        let back = try await device.read(at: 61, blockCount: 3, allocator: ByteBufferAllocator())
        #expect(Array(back.readableBytesView) == bytes)
    }

    @Test("file: on a disk file system a cached read is inline; one that would wait goes to the pool")
    func diskFileReadsInlineOnlyWhenCached() async throws {
        // /var/tmp is on disk (not tmpfs) on Debian.
        let path = "/var/tmp/swiftport-cached-\(UUID().uuidString).img"
        defer { unlink(path) }
        let bytes = pattern(blocks: 2048, seed: 7)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let device = try await FileBlockDevice.open(path: path, threadPool: pool)
        #expect(device.inlineAccess == .cachedReads)
        let cached = try await device.read(at: 0, blockCount: 2048, allocator: ByteBufferAllocator())
        #expect(Array(cached.readableBytesView) == bytes)

        // Written back and dropped from the page cache, the file must come from the disk.
        let file = open(path, O_RDONLY)
        #expect(fdatasync(file) == 0)
        #expect(posix_fadvise(file, 0, 0, POSIX_FADV_DONTNEED) == 0)
        close(file)
        let uncached = try await device.read(at: 0, blockCount: 2048, allocator: ByteBufferAllocator())
        #expect(Array(uncached.readableBytesView) == bytes)

        try await pool.shutdownGracefully()
        let file2 = open(path, O_RDONLY)
        #expect(posix_fadvise(file2, 0, 0, POSIX_FADV_DONTNEED) == 0)
        close(file2)
        await #expect(throws: (any Error).self) {
            _ = try await device.read(at: 0, blockCount: 2048, allocator: ByteBufferAllocator())
        }
        await #expect(throws: (any Error).self) {
            try await device.write(ByteBuffer(bytes: bytes.prefix(512)), at: 0, forceUnitAccess: false)
        }
    }

    @Test("file: a missing directory is an open error naming the path")
    func fileOpenError() async throws {
        do {
            _ = try await FileBlockDevice.open(path: "/nonexistent/dir/disk.img", blockCount: 8, threadPool: .singleton)
            Issue.record("open should fail")
        } catch let error as BlockStorageError {
            #expect(error.code == .openFailed)
            #expect(error.message.contains("/nonexistent/dir/disk.img"))
        }
    }

    @Test("block device: a regular file is refused with a hint")
    func blockDeviceRejectsFile() async throws {
        let path = NSTemporaryDirectory() + "swiftport-notblk-\(UUID().uuidString).img"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 4096)))
        defer { unlink(path) }
        await #expect(throws: BlockStorageError.self) {
            _ = try await BlockDeviceBackend.open(path: path, threadPool: .singleton)
        }
    }
}

import BlockStorage
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A medium backed by a file descriptor: a regular file, or (opened through
/// ``BlockDeviceBackend``) a Linux block device. Every blocking system call runs on
/// the `NIOThreadPool` passed in, never on an event loop or a cooperative-pool thread
/// (ARCHITECTURE.md §5); reads and writes are handed over in batches
/// (``BlockingCallBatcher``). This is the one place pread/pwrite/fdatasync/fallocate live.
public final class FileBlockDevice: BlockDevice {
    /// The path the medium was opened from, for log and error messages.
    public let path: String
    private let descriptor: SystemPackage.FileDescriptor
    private let threadPool: NIOThreadPool
    /// Reads and writes, batched per event-loop tick.
    private let calls: BlockingCallBatcher
    /// A block device's size is the device's: resizing re-reads it instead of truncating.
    private let isBlockDevice: Bool
    private let blockSize: Int
    /// Changes only on ``resize(toBlockCount:)``.
    private let currentGeometry: NIOLockedValueBox<BlockGeometry>

    init(
        descriptor: SystemPackage.FileDescriptor, path: String, geometry: BlockGeometry, isBlockDevice: Bool = false,
        threadPool: NIOThreadPool
    ) {
        self.descriptor = descriptor
        self.path = path
        self.blockSize = geometry.blockSize
        self.currentGeometry = NIOLockedValueBox(geometry)
        self.isBlockDevice = isBlockDevice
        self.threadPool = threadPool
        self.calls = BlockingCallBatcher(threadPool: threadPool, spread: threadPool.numberOfThreads)
    }

    public var geometry: BlockGeometry { currentGeometry.withLockedValue { $0 } }

    /// Opens (creating it if needed) the file at `path` as a medium of `blockCount`
    /// blocks of `blockSize` bytes, growing the file to that size; with `blockCount`
    /// nil the file's current size decides. The file is never shrunk. With
    /// `preallocate` (a thick LUN) every block gets disk space now, so a write never
    /// fails later for want of space.
    public static func open(
        path: String, blockSize: Int = 512, blockCount: UInt64? = nil, preallocate: Bool = false, threadPool: NIOThreadPool
    ) async throws -> FileBlockDevice {
        guard blockSize == 512 || blockSize == 4096 else {
            throw BlockStorageError(.openFailed, "\(path): block size \(blockSize) is not 512 or 4096")
        }
        return try await threadPool.runIfActive {
            let descriptor = try systemCall(.openFailed, "open \(path) read-write") {
                try SystemPackage.FileDescriptor.open(
                    FilePath(path), .readWrite, options: [.create], permissions: [.ownerReadWrite])
            }
            do {
                let size = UInt64(try systemCall(.openFailed, "find the size of \(path)") {
                    try descriptor.seek(offset: 0, from: .end)
                })
                let blocks = blockCount ?? size / UInt64(blockSize)
                let wanted = blocks * UInt64(blockSize)
                if size < wanted {
                    try checkedCall(.openFailed, "grow \(path) to \(wanted) bytes") {
                        ftruncate(descriptor.rawValue, off_t(wanted))
                    }
                }
                guard blocks > 0 else {
                    throw BlockStorageError(.openFailed, "\(path) is empty; give a size in blocks to create it")
                }
                if preallocate {
                    try allocate(descriptor, path: path, length: Int64(wanted))
                }
                // The file system's block (st_blksize) is the unit it writes without
                // reading around: the physical block an initiator should align to.
                var status = stat()
                let fileSystemBlock = fstat(descriptor.rawValue, &status) == 0 ? Int(status.st_blksize) : blockSize
                return FileBlockDevice(
                    descriptor: descriptor, path: path,
                    geometry: BlockGeometry(blockSize: blockSize, blockCount: blocks, physicalBlockSize: fileSystemBlock),
                    threadPool: threadPool)
            } catch {
                try? descriptor.close()
                throw error
            }
        }
    }

    /// Closes the descriptor. The device must not be used afterwards.
    public func close() async throws {
        try await threadPool.runIfActive { [descriptor, path] in
            try systemCall(BlockStorageError.Code.flushFailed, "close \(path)") { try descriptor.close() }
        }
    }

    /// Unmap punches holes (or writes zeros), so unmapped blocks always read as zeros.
    public var supportsUnmap: Bool { true }

    /// A file is truncated to the new size (growing is sparse); a block device must
    /// already have grown (lvextend, a bigger partition): its size is read again and
    /// must hold `blockCount` blocks.
    public func resize(toBlockCount blockCount: UInt64) async throws {
        let bytes = blockCount * UInt64(blockSize)
        try await threadPool.runIfActive { [descriptor, path, isBlockDevice] in
            if isBlockDevice {
                let size = UInt64(try systemCall(.unsupported, "find the size of \(path)") {
                    try descriptor.seek(offset: 0, from: .end)
                })
                guard size >= bytes else {
                    throw BlockStorageError(
                        .unsupported, "\(path) holds \(size) bytes, less than \(bytes); grow the device first")
                }
            } else {
                try checkedCall(.writeFailed, "truncate \(path) to \(bytes) bytes") {
                    ftruncate(descriptor.rawValue, off_t(bytes))
                }
            }
        }
        currentGeometry.withLockedValue { $0.blockCount = blockCount }
    }

    public func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        let byteCount = blockCount * blockSize
        let offset = Int64(lba) * Int64(blockSize)
        return try await calls.run { [descriptor, path] in
            var buffer = allocator.buffer(capacity: byteCount)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: byteCount) { raw in
                var done = 0
                while done < byteCount {
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[done..<byteCount])
                    let count = try systemCall(.readFailed, "read \(byteCount) bytes at offset \(offset) of \(path)") {
                        try descriptor.read(fromAbsoluteOffset: offset + Int64(done), into: chunk)
                    }
                    if count == 0 {  // past the end of a file: the medium reads as zeros
                        chunk.initializeMemory(as: UInt8.self, repeating: 0)
                        break
                    }
                    done += count
                }
                return byteCount
            }
            return buffer
        }
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        let offset = Int64(lba) * Int64(blockSize)
        try await calls.run { [descriptor, path] in
            _ = try systemCall(.writeFailed, "write \(data.readableBytes) bytes at offset \(offset) of \(path)") {
                try descriptor.writeAll(toAbsoluteOffset: offset, data.readableBytesView)
            }
            if forceUnitAccess {
                try Self.synchronize(descriptor, path: path, code: .writeFailed)
            }
        }
    }

    public func flush() async throws {
        try await threadPool.runIfActive { [descriptor, path] in
            try Self.synchronize(descriptor, path: path, code: .flushFailed)
        }
    }

    /// Punches a hole with fallocate(PUNCH_HOLE | KEEP_SIZE), which also discards on
    /// Linux block devices; where that is unsupported, writes zeros instead so that
    /// LBPRZ (unmapped blocks read as zeros, SBC-3 §4.7.4.5) stays true.
    public func unmap(at lba: UInt64, blockCount: Int) async throws {
        let offset = Int64(lba) * Int64(blockSize)
        let length = Int64(blockCount) * Int64(blockSize)
        try await threadPool.runIfActive { [descriptor, path] in
            if Self.punchHole(descriptor, offset: offset, length: length) { return }
            let zeros = [UInt8](repeating: 0, count: 1 << 20)
            var done: Int64 = 0
            while done < length {
                let count = Int(min(Int64(zeros.count), length - done))
                _ = try systemCall(.writeFailed, "write zeros at offset \(offset + done) of \(path)") {
                    try descriptor.writeAll(toAbsoluteOffset: offset + done, zeros.prefix(count))
                }
                done += Int64(count)
            }
        }
    }

    /// fdatasync(2): data and the metadata needed to read it back are durable.
    private static func synchronize(_ descriptor: SystemPackage.FileDescriptor, path: String, code: BlockStorageError.Code) throws {
        #if canImport(Glibc)
        try checkedCall(code, "fdatasync \(path)") { fdatasync(descriptor.rawValue) }
        #else
        try checkedCall(code, "fsync \(path)") { fsync(descriptor.rawValue) }
        #endif
    }

    /// fallocate(2) mode 0 over the first `length` bytes: space for every block.
    private static func allocate(_ descriptor: SystemPackage.FileDescriptor, path: String, length: Int64) throws {
        guard let fallocate = fallocateFunction else {
            throw BlockStorageError(.openFailed, "cannot preallocate \(path): fallocate(2) is not available here")
        }
        try checkedCall(.openFailed, "preallocate \(length) bytes for \(path) (is the file system full?)") {
            fallocate(descriptor.rawValue, 0, 0, off_t(length))
        }
    }

    /// Whether the kernel deallocated the range.
    private static func punchHole(_ descriptor: SystemPackage.FileDescriptor, offset: Int64, length: Int64) -> Bool {
        // linux/falloc.h: FALLOC_FL_KEEP_SIZE 0x01, FALLOC_FL_PUNCH_HOLE 0x02.
        let keepSizePunchHole: Int32 = 0x01 | 0x02
        guard let fallocate = fallocateFunction else { return false }
        return fallocate(descriptor.rawValue, keepSizePunchHole, off_t(offset), off_t(length)) == 0
    }

    /// The C signature of Linux fallocate(2).
    private typealias Fallocate = @convention(c) (Int32, Int32, off_t, off_t) -> Int32

    /// glibc's fallocate(2), looked up at run time: the Glibc module only exports it
    /// under _GNU_SOURCE, which Swift does not define; nil off Linux.
    private static let fallocateFunction: Fallocate? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: Fallocate.self)
        #else
        return nil
        #endif
    }()
}

/// Runs a swift-system call, turning its `Errno` into a `BlockStorageError` that says
/// what we were doing and to which file.
func systemCall<T>(_ code: BlockStorageError.Code, _ what: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as Errno {
        throw BlockStorageError(code, "cannot \(what): \(error)")
    }
}

/// Runs a libc call that returns -1 and sets errno on failure.
func checkedCall(_ code: BlockStorageError.Code, _ what: String, _ body: () -> Int32) throws {
    if body() == -1 {
        throw BlockStorageError(code, "cannot \(what): \(Errno(rawValue: errno))")
    }
}

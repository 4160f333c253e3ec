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
/// ``BlockDeviceBackend``) a Linux block device. Every system call that can wait for a
/// device runs on the `NIOThreadPool` passed in, never on an event loop or a
/// cooperative-pool thread (ARCHITECTURE.md §5); reads and writes are handed over in
/// batches (``BlockingCallBatcher``). Calls that cannot wait for a device are made on
/// the caller's thread, as a RAM disk's copies are (``InlineAccess``). This is the one
/// place pread/pwrite/fdatasync/fallocate live.
public final class FileBlockDevice: BlockDevice {
    /// Which reads and writes are made on the caller's thread instead of the pool.
    ///
    /// A hand-over to the pool costs two thread wake-ups, several times the copy
    /// itself when the data is in memory.
    enum InlineAccess: Equatable {
        /// A regular file on tmpfs or ramfs: every read and write is a copy to or
        /// from memory (fdatasync is a no-op there), so all of them are made inline.
        /// Only swapped-out pages could make one wait, as they would a RAM disk's.
        case memoryBacked
        /// Reads are tried inline with preadv2(RWF_NOWAIT), which fails with EAGAIN
        /// instead of waiting when a page is not in the page cache; the rest of such
        /// a read goes to the pool. Writes always go to the pool: a buffered write can
        /// wait for writeback or the journal, and RWF_NOWAIT is refused for them.
        case cachedReads
        /// Everything goes to the pool (RWF_NOWAIT unsupported).
        case none
    }

    /// Decided once at open by ``probeInlineAccess(_:isBlockDevice:)``.
    let inlineAccess: InlineAccess
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
        self.inlineAccess = Self.probeInlineAccess(descriptor, isBlockDevice: isBlockDevice)
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
        var started: ByteBuffer? = nil
        if inlineAccess != .none {
            var buffer = allocator.buffer(capacity: byteCount)
            let onlyIfCached = inlineAccess == .cachedReads
            if try Self.fill(&buffer, to: byteCount, from: offset, of: descriptor, path: path, onlyIfCached: onlyIfCached) {
                return buffer
            }
            // Partly cached: the pool reads the rest (the buffer is copied once then).
            if buffer.readableBytes > 0 { started = buffer }
        }
        return try await calls.run { [descriptor, path, started] in
            var buffer = started ?? allocator.buffer(capacity: byteCount)
            try Self.fill(&buffer, to: byteCount, from: offset, of: descriptor, path: path, onlyIfCached: false)
            return buffer
        }
    }

    /// Reads from `offset` onwards until `buffer` holds `byteCount` bytes, continuing
    /// after what it already holds; past the end of the file the medium reads as zeros.
    /// With `onlyIfCached` it stops, returning false, where a read would wait for the
    /// device (preadv2 with RWF_NOWAIT fails with EAGAIN).
    @discardableResult
    private static func fill(
        _ buffer: inout ByteBuffer, to byteCount: Int, from offset: Int64, of descriptor: SystemPackage.FileDescriptor,
        path: String, onlyIfCached: Bool
    ) throws -> Bool {
        let what = { "read \(byteCount) bytes at offset \(offset) of \(path)" }
        while buffer.readableBytes < byteCount {
            let done = buffer.readableBytes
            var wouldWait = false
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: byteCount - done) { raw -> Int in
                let chunk = UnsafeMutableRawBufferPointer(rebasing: raw[0..<(byteCount - done)])
                let count: Int
                if onlyIfCached, let readIfCached = preadv2Function {
                    var vector = iovec(iov_base: chunk.baseAddress, iov_len: chunk.count)
                    count = readIfCached(descriptor.rawValue, &vector, 1, off_t(offset + Int64(done)), noWaitFlag)
                    if count < 0 {
                        let error = errno
                        if error == EAGAIN {
                            wouldWait = true
                            return 0
                        }
                        if error == EINTR { return 0 }
                        throw BlockStorageError(.readFailed, "cannot \(what()): \(Errno(rawValue: error))")
                    }
                } else {
                    count = try systemCall(.readFailed, what()) {
                        try descriptor.read(fromAbsoluteOffset: offset + Int64(done), into: chunk)
                    }
                }
                if count == 0 {
                    chunk.initializeMemory(as: UInt8.self, repeating: 0)
                    return chunk.count
                }
                return count
            }
            if wouldWait { return false }
        }
        return true
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try await write(SegmentedBuffer(data), at: lba, forceUnitAccess: forceUnitAccess)
    }

    public func write(_ data: SegmentedBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        let offset = Int64(lba) * Int64(blockSize)
        if inlineAccess == .memoryBacked {
            return try Self.write(data, at: offset, of: descriptor, path: path, forceUnitAccess: forceUnitAccess)
        }
        try await calls.run { [descriptor, path] in
            try Self.write(data, at: offset, of: descriptor, path: path, forceUnitAccess: forceUnitAccess)
        }
    }

    /// One pwrite per segment, at consecutive offsets; then fdatasync for FUA.
    private static func write(
        _ data: SegmentedBuffer, at offset: Int64, of descriptor: SystemPackage.FileDescriptor, path: String,
        forceUnitAccess: Bool
    ) throws {
        var segmentOffset = offset
        try data.forEachSegment { segment in
            _ = try systemCall(.writeFailed, "write \(segment.readableBytes) bytes at offset \(segmentOffset) of \(path)") {
                try descriptor.writeAll(toAbsoluteOffset: segmentOffset, segment.readableBytesView)
            }
            segmentOffset += Int64(segment.readableBytes)
        }
        if forceUnitAccess {
            try synchronize(descriptor, path: path, code: .writeFailed)
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

    /// How this descriptor's reads and writes may run inline (see ``InlineAccess``).
    /// Runs on a pool thread at open: the probe read may wait for the device.
    static func probeInlineAccess(_ descriptor: SystemPackage.FileDescriptor, isBlockDevice: Bool) -> InlineAccess {
        #if os(Linux)
        // A device node's file system is devtmpfs (a tmpfs), so only a regular file's counts.
        let tmpfsMagic = 0x0102_1994, ramfsMagic = 0x8584_58f6  // linux/magic.h
        if !isBlockDevice, let type = fileSystemType(descriptor), [tmpfsMagic, ramfsMagic].contains(type) {
            return .memoryBacked
        }
        guard let readIfCached = preadv2Function else { return .none }
        var byte: UInt8 = 0
        let supported = withUnsafeMutableBytes(of: &byte) { raw in
            var vector = iovec(iov_base: raw.baseAddress, iov_len: 1)
            return readIfCached(descriptor.rawValue, &vector, 1, 0, noWaitFlag) >= 0 || errno == EAGAIN
        }
        return supported ? .cachedReads : .none
        #else
        return .none
        #endif
    }

    /// The f_type of fstatfs(2); the field leads struct statfs on every 64-bit Linux.
    private static func fileSystemType(_ descriptor: SystemPackage.FileDescriptor) -> Int? {
        guard let fstatfs = fstatfsFunction else { return nil }
        // struct statfs is 120 bytes on x86_64 and aarch64; room to spare.
        return withUnsafeTemporaryAllocation(byteCount: 256, alignment: 8) { raw in
            fstatfs(descriptor.rawValue, raw.baseAddress!) == 0 ? raw.load(as: Int.self) : nil
        }
    }

    /// RWF_NOWAIT (linux/fs.h): fail with EAGAIN instead of waiting for the device.
    private static let noWaitFlag: Int32 = 0x0000_0008

    /// The Linux calls the Glibc module does not export: fallocate(2) and preadv2(2)
    /// only exist under _GNU_SOURCE, which Swift does not define, and fstatfs(2) is in
    /// sys/vfs.h, which it does not include.
    private static let fallocateFunction = linuxFunction(
        "fallocate", as: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32).self)
    private static let preadv2Function = linuxFunction(
        "preadv2", as: (@convention(c) (Int32, UnsafePointer<iovec>, Int32, off_t, Int32) -> Int).self)
    private static let fstatfsFunction = linuxFunction(
        "fstatfs", as: (@convention(c) (Int32, UnsafeMutableRawPointer) -> Int32).self)

    /// A libc function looked up at run time; nil off Linux or where libc lacks it.
    private static func linuxFunction<Function>(_ name: String, as type: Function.Type) -> Function? {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }
}

/// Runs a swift-system call, turning its `Errno` into a `BlockStorageError` that says
/// what we were doing and to which file (`what` is only built on failure: the read and
/// write paths call this per I/O).
func systemCall<T>(_ code: BlockStorageError.Code, _ what: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as Errno {
        throw BlockStorageError(code, "cannot \(what()): \(error)")
    }
}

/// Runs a libc call that returns -1 and sets errno on failure.
func checkedCall(_ code: BlockStorageError.Code, _ what: @autoclosure () -> String, _ body: () -> Int32) throws {
    if body() == -1 {
        throw BlockStorageError(code, "cannot \(what()): \(Errno(rawValue: errno))")
    }
}

import NIOCore

/// The narrow backend contract (ARCHITECTURE.md §3, STYLE.md §3): the Storport
/// "miniport" half. A backend moves blocks and nothing else; every SCSI meaning
/// (ranges, sense, residuals, unit attentions, reservations) lives in SCSIEngine.
///
/// All methods are asynchronous and must never block the caller's thread: backends
/// that do blocking system calls run them on a thread pool (HwStorStartIo accepts the
/// request and completes it later).
public protocol BlockDevice: Sendable {
    /// Size and shape of the medium, probed when the LUN is attached.
    var geometry: BlockGeometry { get }

    /// Reads `blockCount` blocks starting at `lba`. The caller has range-checked.
    func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer

    /// Writes `data` (a whole number of blocks) at `lba`. When `forceUnitAccess` is set
    /// the data must be on stable storage before this returns (SBC-3 §5.x FUA).
    func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws

    /// Writes the segments of `data` back to back from `lba`, as one write of all of
    /// them (a whole number of blocks; a segment need not be): the data of a write that
    /// arrived in several PDUs, not copied together first.
    func write(_ data: SegmentedBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws

    /// Makes every completed write durable (SYNCHRONIZE CACHE).
    func flush() async throws

    /// Deallocates the given range; later reads return zeros (thin provisioning).
    func unmap(at lba: UInt64, blockCount: Int) async throws

    /// Whether `unmap` deallocates and later reads of the range return zeros. The engine
    /// advertises thin provisioning (LBPME, LBPU, LBPRZ; SBC-3 §4.7) only when it is set.
    var supportsUnmap: Bool { get }

    /// Changes the medium to `blockCount` blocks (online resize, asked for by the
    /// operator). Growing reads as zeros; shrinking drops the blocks past the new end.
    /// `geometry` reports the new size once this returns.
    func resize(toBlockCount blockCount: UInt64) async throws

    /// Compares `expected` with the medium at `lba` and writes `replacement` (as long)
    /// there only if they are equal, in one step that no other writer of the medium, in
    /// this process or another, can come between (COMPARE AND WRITE, SBC-3 §5.2). nil
    /// from a backend without such an operation: the engine then compares and writes
    /// itself, under the logical unit's gate, which orders this process's commands only.
    func compareAndWrite(_ expected: ByteBuffer, _ replacement: ByteBuffer, at lba: UInt64) async throws -> CompareAndWriteResult?

    /// Writes the one block `pattern` to each of `blockCount` blocks from `lba` (WRITE
    /// SAME, SBC-3 §5.42) in one backend operation, without the data being repeated in
    /// memory first; false from a backend without one (the engine then writes the
    /// repeated block itself).
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: UInt64) async throws -> Bool

    /// Has `handler` called whenever the medium changes size other than by `resize`
    /// (shared storage that another host resized), once `geometry` reports the new
    /// size; on a backend thread. A backend whose size only `resize` changes never calls it.
    func onExternalResize(_ handler: @escaping @Sendable () -> Void)
}

/// What an atomic compare-and-write found.
public enum CompareAndWriteResult: Sendable, Equatable {
    case written
    /// Nothing was written: the medium differs from the expected data first at this
    /// byte offset (the INFORMATION of the MISCOMPARE, SBC-3 §5.2).
    case miscompare(offset: Int)
}

extension BlockDevice {
    /// Backends are fully provisioned unless they say otherwise.
    public var supportsUnmap: Bool { false }

    /// Backends that store one buffer at a time get the segments copied together.
    public func write(_ data: SegmentedBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try await write(data.contiguous(), at: lba, forceUnitAccess: forceUnitAccess)
    }

    /// Backends leave COMPARE AND WRITE to the engine unless they can do it atomically.
    public func compareAndWrite(_ expected: ByteBuffer, _ replacement: ByteBuffer, at lba: UInt64) async throws -> CompareAndWriteResult? {
        nil
    }

    /// Backends leave WRITE SAME to the engine unless they have an operation for it.
    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: UInt64) async throws -> Bool {
        false
    }

    /// Backends are resized by the operator only, unless they say otherwise.
    public func onExternalResize(_ handler: @escaping @Sendable () -> Void) {}

    /// Backends have a fixed size unless they say otherwise.
    public func resize(toBlockCount blockCount: UInt64) async throws {
        throw BlockStorageError(.unsupported, "this backend cannot change its size while exported")
    }
}

/// Block size and count of a medium.
public struct BlockGeometry: Sendable, Hashable {
    /// Bytes per logical block: 512 or 4096.
    public var blockSize: Int
    /// Number of logical blocks.
    public var blockCount: UInt64
    /// Bytes the medium writes as one unit (a multiple of `blockSize`): the physical
    /// sector of a disk, the block of a file system. Initiators align I/O to it.
    public var physicalBlockSize: Int

    public init(blockSize: Int, blockCount: UInt64, physicalBlockSize: Int? = nil) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        let physical = physicalBlockSize ?? blockSize
        self.physicalBlockSize = physical >= blockSize && physical % blockSize == 0 ? physical : blockSize
    }

    /// Capacity in bytes.
    public var byteCount: UInt64 { UInt64(blockSize) * blockCount }

    /// LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT of READ CAPACITY(16) (SBC-3 §5.16.2):
    /// log2 of physical / logical, 0 when the ratio is not a power of two.
    public var logicalBlocksPerPhysicalBlockExponent: Int {
        let ratio = physicalBlockSize / blockSize
        return ratio.nonzeroBitCount == 1 ? ratio.trailingZeroBitCount : 0
    }
}

/// Why a backend operation failed. The engine maps `code` to sense data
/// (MEDIUM ERROR for reads, WRITE ERROR for writes, ...).
public struct BlockStorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; extensible without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The medium could not be read.
        public static let readFailed = Code("readFailed")
        /// The medium could not be written.
        public static let writeFailed = Code("writeFailed")
        /// A flush to stable storage failed.
        public static let flushFailed = Code("flushFailed")
        /// The backend could not be opened or probed.
        public static let openFailed = Code("openFailed")
        /// The operation is not supported by this backend.
        public static let unsupported = Code("unsupported")
        /// The storage did not answer in time (a cluster out of reach); it may again.
        public static let unavailable = Code("unavailable")
        /// The storage refuses this process for good: another took over and fenced it
        /// off (a Ceph client on the cluster's blocklist). Nothing it writes can land.
        public static let fenced = Code("fenced")
        /// A write to a medium whose exclusive lock another device server holds
        /// (``ExclusiveLockDevice``): nothing was written; once the lock moves here,
        /// the write may be made again.
        public static let notLockHolder = Code("notLockHolder")
        public var description: String { name }
    }

    public var code: Code
    /// What went wrong, for an operator reading the log.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

import BlockStorage
import CLibRBD
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import SystemPackage

/// librbd's and librados' functions, loaded on first use: a daemon without an rbd LUN
/// never needs the Ceph libraries (ARCHITECTURE.md, LUN backends).
final class RBDLibrary: @unchecked Sendable {  // immutable once loaded
    let api: swiftport_rbd_api

    private init(api: swiftport_rbd_api) {
        self.api = api
    }

    /// The system's librbd.so.1 and librados.so.2, or why they cannot be used.
    static let shared: Result<RBDLibrary, BlockStorageError> = load(librbd: "librbd.so.1", librados: "librados.so.2")

    static func load(librbd: String, librados: String) -> Result<RBDLibrary, BlockStorageError> {
        let api = UnsafeMutablePointer<swiftport_rbd_api>.allocate(capacity: 1)
        defer { api.deallocate() }
        var message = [CChar](repeating: 0, count: 512)
        guard swiftport_rbd_load(librbd, librados, api, &message, message.count) == 0 else {
            return .failure(BlockStorageError(.openFailed, "\(Self.string(message)); rbd LUNs need the Debian package librbd1 (apt-get install librbd1)"))
        }
        return .success(RBDLibrary(api: api.pointee))
    }

    /// A NUL-terminated C string from a buffer.
    static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Where an RBD image is and how to reach its cluster (the `[[target.lun]]` keys of an
/// rbd LUN).
public struct RBDImageLocation: Sendable, Hashable {
    public var pool: String
    public var image: String
    /// A RADOS namespace within the pool.
    public var namespace: String?
    /// The cluster's configuration file (monitors, and the keyring unless `keyring`).
    public var cephConf: String
    /// The Ceph user, without "client." (`client = "admin"` is client.admin).
    public var client: String
    public var keyring: String?

    public static let defaultCephConf = "/etc/ceph/ceph.conf"
    public static let defaultClient = "admin"

    public init(pool: String, image: String, namespace: String? = nil, cephConf: String = Self.defaultCephConf,
                client: String = Self.defaultClient, keyring: String? = nil) {
        self.pool = pool
        self.image = image
        self.namespace = namespace
        self.cephConf = cephConf
        self.client = client
        self.keyring = keyring
    }

    var name: String { "\(pool)/\(namespace.map { "\($0)/" } ?? "")\(image)" }
}

/// One connection to a Ceph cluster (a `rados_t`), shared by every rbd LUN with the same
/// configuration file, client name and keyring.
final class RBDCluster: @unchecked Sendable {  // the handle is thread-safe (librados)
    struct Key: Hashable {
        var cephConf: String
        var client: String
        var keyring: String?
    }

    let library: RBDLibrary
    let handle: UnsafeMutableRawPointer

    private init(library: RBDLibrary, handle: UnsafeMutableRawPointer) {
        self.library = library
        self.handle = handle
    }

    private static let connected = NIOLockedValueBox<[Key: RBDCluster]>([:])

    /// The cluster for `key`, connected on first use (on `threadPool`: `rados_connect`
    /// blocks until the monitors answer or `client_mount_timeout` passes).
    static func connect(_ key: Key, operationTimeout: Int, threadPool: NIOThreadPool) async throws -> RBDCluster {
        if let cluster = connected.withLockedValue({ $0[key] }) { return cluster }
        let library = try RBDLibrary.shared.get()
        let cluster = try await threadPool.runIfActive {
            try RBDCluster(connecting: key, library: library, operationTimeout: operationTimeout)
        }
        return connected.withLockedValue { clusters in
            if let earlier = clusters[key] {
                library.api.rados_shutdown(cluster.handle)
                return earlier
            }
            clusters[key] = cluster
            return cluster
        }
    }

    private convenience init(connecting key: Key, library: RBDLibrary, operationTimeout: Int) throws {
        let api = library.api
        var handle: UnsafeMutableRawPointer?
        try Self.check(api.rados_create2(&handle, "ceph", "client.\(key.client)", 0), "create a cluster handle for client.\(key.client)")
        guard let handle else { throw BlockStorageError(.openFailed, "librados gave no cluster handle") }
        do {
            try Self.check(api.rados_conf_read_file(handle, key.cephConf), "read the Ceph configuration \(key.cephConf)")
            if let keyring = key.keyring { try Self.check(api.rados_conf_set(handle, "keyring", keyring), "use the keyring \(keyring)") }
            // An unreachable cluster ends I/O and the connect with an error, never a hang.
            for option in ["rados_osd_op_timeout", "rados_mon_op_timeout", "client_mount_timeout"] {
                try Self.check(api.rados_conf_set(handle, option, "\(operationTimeout)"), "set \(option)")
            }
            // A discard of part of an object must zero it, not be skipped (librbd's
            // default): an unmapped block reads as zeros (LBPRZ = 1, SBC-3 §4.7.4.5).
            try Self.check(api.rados_conf_set(handle, "rbd_skip_partial_discard", "false"), "set rbd_skip_partial_discard")
            try Self.check(api.rados_connect(handle), "connect to the cluster of \(key.cephConf) as client.\(key.client)")
        } catch {
            api.rados_shutdown(handle)
            throw error
        }
        self.init(library: library, handle: handle)
    }

    static func check(_ result: Int32, _ what: @autoclosure () -> String) throws(BlockStorageError) {
        guard result < 0 else { return }
        throw BlockStorageError(.openFailed, "cannot \(what()): \(Errno(rawValue: -result))")
    }
}

/// An RBD image as a block device, through librbd's asynchronous C API: each I/O is
/// submitted at once and its completion resumes the command (on the connection's event
/// loop, its executor), so no thread waits per I/O. Write data goes out as the segments
/// it arrived in (`rbd_aio_writev`).
public final class RBDBlockDevice: BlockDevice, @unchecked Sendable {  // librbd image handles are thread-safe
    private let cluster: RBDCluster
    private let ioctx: UnsafeMutableRawPointer
    private let image: UnsafeMutableRawPointer
    private let blockSize: Int
    private let blockCount: Synchronization.Atomic<UInt64>
    private let threadPool: NIOThreadPool
    /// The image's id (`rbd_get_id`): the same wherever the image is opened.
    public let imageID: String
    private let location: RBDImageLocation

    /// A name of the image that every daemon opening it agrees on and that a rename
    /// keeps: its pool, namespace and id. The LUN's identity (VPD 0x80, 0x83) comes
    /// from it, so all gateways exporting the image present one device.
    public var identitySeed: String { "rbd/\(location.pool)/\(location.namespace ?? "")/\(imageID)" }

    private var api: swiftport_rbd_api { cluster.library.api }

    private init(
        cluster: RBDCluster, ioctx: UnsafeMutableRawPointer, image: UnsafeMutableRawPointer, location: RBDImageLocation, blockSize: Int,
        byteCount: UInt64, imageID: String, threadPool: NIOThreadPool
    ) {
        self.location = location
        self.cluster = cluster
        self.ioctx = ioctx
        self.image = image
        self.blockSize = blockSize
        self.blockCount = Synchronization.Atomic(byteCount / UInt64(blockSize))
        self.imageID = imageID
        self.threadPool = threadPool
    }

    /// Opens the image (creating it with `createSize` bytes when it does not exist and
    /// that is given). The blocking steps (connect, open) run on `threadPool`.
    public static func open(
        _ location: RBDImageLocation, blockSize: Int, createSize: UInt64?, operationTimeout: Int = 30, threadPool: NIOThreadPool
    ) async throws -> RBDBlockDevice {
        let cluster = try await RBDCluster.connect(
            .init(cephConf: location.cephConf, client: location.client, keyring: location.keyring), operationTimeout: operationTimeout,
            threadPool: threadPool)
        return try await threadPool.runIfActive {
            try openImage(location, cluster: cluster, blockSize: blockSize, createSize: createSize, threadPool: threadPool)
        }
    }

    private static func openImage(_ location: RBDImageLocation, cluster: RBDCluster, blockSize: Int, createSize: UInt64?, threadPool: NIOThreadPool) throws -> RBDBlockDevice {
        let api = cluster.library.api
        var ioctx: UnsafeMutableRawPointer?
        try RBDCluster.check(api.rados_ioctx_create(cluster.handle, location.pool, &ioctx), "open pool \(location.pool)")
        guard let ioctx else { throw BlockStorageError(.openFailed, "librados gave no I/O context for pool \(location.pool)") }
        do {
            if let namespace = location.namespace { api.rados_ioctx_set_namespace(ioctx, namespace) }
            var image: UnsafeMutableRawPointer?
            var opened = api.rbd_open(ioctx, location.image, &image, nil)
            if opened == -Errno.noSuchFileOrDirectory.rawValue, let createSize {
                var order: Int32 = 0
                try RBDCluster.check(api.rbd_create(ioctx, location.image, createSize, &order), "create image \(location.name) of \(createSize) bytes")
                opened = api.rbd_open(ioctx, location.image, &image, nil)
            }
            try RBDCluster.check(opened, "open image \(location.name)\(opened == -Errno.noSuchFileOrDirectory.rawValue ? " (it does not exist; set create = true and size to create it)" : "")")
            guard let image else { throw BlockStorageError(.openFailed, "librbd gave no image handle for \(location.name)") }
            do {
                var size: UInt64 = 0
                try RBDCluster.check(api.rbd_get_size(image, &size), "read the size of \(location.name)")
                guard size % UInt64(blockSize) == 0 else {
                    throw BlockStorageError(.openFailed, "image \(location.name) is \(size) bytes, not a whole number of \(blockSize)-byte blocks; rbd resize it")
                }
                var id = [CChar](repeating: 0, count: 64)
                try RBDCluster.check(api.rbd_get_id(image, &id, id.count), "read the id of \(location.name)")
                let imageID = RBDLibrary.string(id)
                return RBDBlockDevice(
                    cluster: cluster, ioctx: ioctx, image: image, location: location, blockSize: blockSize, byteCount: size,
                    imageID: imageID, threadPool: threadPool)
            } catch {
                _ = api.rbd_close(image)
                throw error
            }
        } catch {
            api.rados_ioctx_destroy(ioctx)
            throw error
        }
    }

    /// Closes the image (the LUN was removed or the daemon stops); no I/O may follow.
    public func close() async {
        try? await threadPool.runIfActive {
            _ = self.api.rbd_close(self.image)
            self.api.rados_ioctx_destroy(self.ioctx)
        }
    }

    public var geometry: BlockGeometry {
        BlockGeometry(blockSize: blockSize, blockCount: blockCount.load(ordering: .acquiring), physicalBlockSize: max(blockSize, 4096))
    }

    public var supportsUnmap: Bool { true }

    public func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        let length = blockCount * blockSize
        var buffer = allocator.buffer(capacity: length)
        // The buffer is neither touched nor released until the read completes, so its
        // storage stays where librbd writes.
        let destination = buffer.withUnsafeMutableWritableBytes { $0.baseAddress! }
        let offset = lba * UInt64(blockSize)
        let result = await submit { api, completion in
            api.rbd_aio_read(image, offset, length, destination.assumingMemoryBound(to: CChar.self), completion)
        }
        try check(result, .readFailed, "read \(length) bytes at LBA \(lba)")
        buffer.moveWriterIndex(forwardBy: length)
        return buffer
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try await write(SegmentedBuffer(data), at: lba, forceUnitAccess: forceUnitAccess)
    }

    public func write(_ data: SegmentedBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        // The vector and the segments it points into (kept in `data`) stay until the
        // write completes: librbd refers to them, it does not copy them at submission.
        var count = 0
        data.forEachSegment { _ in count += 1 }
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: count)
        defer { vectors.deallocate() }
        var index = 0
        data.forEachSegment { segment in
            segment.withUnsafeReadableBytes { bytes in
                vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            }
            index += 1
        }
        let offset = lba * UInt64(blockSize)
        let result = await submit { api, completion in api.rbd_aio_writev(image, vectors, Int32(count), offset, completion) }
        withExtendedLifetime(data) {}
        try check(result, .writeFailed, "write \(data.readableBytes) bytes at LBA \(lba)")
        // FUA (SBC-3 §5.45): on stable storage before the status; librbd has no per-write flag.
        if forceUnitAccess { try await flush() }
    }

    public func flush() async throws {
        let result = await submit { api, completion in api.rbd_aio_flush(image, completion) }
        try check(result, .flushFailed, "flush")
    }

    public func unmap(at lba: UInt64, blockCount: Int) async throws {
        let offset = lba * UInt64(blockSize), length = UInt64(blockCount * blockSize)
        let result = await submit { api, completion in api.rbd_aio_discard(image, offset, length, completion) }
        try check(result, .writeFailed, "discard \(length) bytes at LBA \(lba)")
    }

    /// `rbd_aio_compare_and_write`: the comparison and the write happen at the OSD as
    /// one operation, so COMPARE AND WRITE is atomic against every process writing the
    /// image (other gateways included), not only this daemon's commands.
    public func compareAndWrite(_ expected: ByteBuffer, _ replacement: ByteBuffer, at lba: UInt64) async throws -> CompareAndWriteResult? {
        let offset = lba * UInt64(blockSize), length = expected.readableBytes
        // Both buffers (locals used below) and the mismatch slot stay until completion.
        let compare = expected.withUnsafeReadableBytes { $0.baseAddress! }
        let write = replacement.withUnsafeReadableBytes { $0.baseAddress! }
        let mismatch = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        defer { mismatch.deallocate() }
        mismatch.pointee = 0
        let result = await submit { api, completion in
            Int32(clamping: api.rbd_aio_compare_and_write(
                image, offset, length, compare.assumingMemoryBound(to: CChar.self), write.assumingMemoryBound(to: CChar.self), completion,
                mismatch, 0))
        }
        withExtendedLifetime((expected, replacement)) {}
        if result == -Int(Errno.illegalByteSequence.rawValue) {
            // librbd reports the first differing byte as an offset in the image.
            let found = mismatch.pointee
            return .miscompare(offset: found >= offset && found < offset + UInt64(length) ? Int(found - offset) : Int(min(found, UInt64(length))))
        }
        try check(result, .writeFailed, "compare and write \(length) bytes at LBA \(lba)")
        return .written
    }

    /// `rbd_aio_writesame`: librbd repeats the block itself, so the range is one
    /// operation and the block is not copied out to its length first.
    public func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: UInt64) async throws -> Bool {
        let offset = lba * UInt64(blockSize), length = Int(blockCount) * blockSize
        let block = pattern.withUnsafeReadableBytes { $0.baseAddress! }  // `pattern` is kept below
        let dataLength = pattern.readableBytes
        let result = await submit { api, completion in
            api.rbd_aio_writesame(image, offset, length, block.assumingMemoryBound(to: CChar.self), dataLength, completion, 0)
        }
        withExtendedLifetime(pattern) {}
        try check(result, .writeFailed, "write the same block to \(blockCount) blocks at LBA \(lba)")
        return true
    }

    public func resize(toBlockCount blockCount: UInt64) async throws {
        let bytes = blockCount * UInt64(blockSize)
        let result = try await threadPool.runIfActive { self.api.rbd_resize(self.image, bytes) }
        try check(Int(result), .writeFailed, "resize the image to \(bytes) bytes")
        self.blockCount.store(blockCount, ordering: .releasing)
    }

    // MARK: - Completions

    /// Starts one asynchronous librbd call and waits for its completion's return value
    /// (negative errno on failure).
    private func submit(_ start: (swiftport_rbd_api, UnsafeMutableRawPointer) -> Int32) async -> Int {
        let api = self.api
        return await withCheckedContinuation { continuation in
            let pending = Unmanaged.passRetained(PendingCompletion(continuation, api: api)).toOpaque()
            var completion: UnsafeMutableRawPointer?
            let created = api.rbd_aio_create_completion(pending, rbdCompletionCallback, &completion)
            guard created == 0, let completion else {
                Unmanaged<PendingCompletion>.fromOpaque(pending).release()
                return continuation.resume(returning: Int(min(created, -Errno.noMemory.rawValue)))
            }
            let started = start(api, completion)
            if started < 0 {
                // Not submitted: no callback will come.
                api.rbd_aio_release(completion)
                Unmanaged<PendingCompletion>.fromOpaque(pending).release()
                continuation.resume(returning: Int(started))
            }
        }
    }

    private func check(_ result: Int, _ code: BlockStorageError.Code, _ what: @autoclosure () -> String) throws(BlockStorageError) {
        guard result < 0 else { return }
        throw BlockStorageError(code, "rbd image \(imageID): cannot \(what()): \(Errno(rawValue: Int32(-result)))")
    }
}

/// What a librbd completion resumes.
private final class PendingCompletion {
    let continuation: CheckedContinuation<Int, Never>
    let api: swiftport_rbd_api

    init(_ continuation: CheckedContinuation<Int, Never>, api: swiftport_rbd_api) {
        self.continuation = continuation
        self.api = api
    }
}

/// Called on a librbd thread when an I/O completes.
private let rbdCompletionCallback: swiftport_rbd_callback = { completion, argument in
    let pending = Unmanaged<PendingCompletion>.fromOpaque(argument!).takeRetainedValue()
    let result = pending.api.rbd_aio_get_return_value(completion!)
    pending.api.rbd_aio_release(completion!)
    pending.continuation.resume(returning: result)
}

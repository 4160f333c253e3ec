import BlockStorage
import CLibRBD
import CephCluster
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import SystemPackage

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
    /// Seconds a cluster operation (an I/O, the connect) may take before it fails: the
    /// command then ends with CHECK CONDITION instead of waiting for a cluster that may
    /// never answer (`cluster_timeout`).
    public var clusterTimeout: Int

    public static let defaultCephConf = "/etc/ceph/ceph.conf"
    public static let defaultClient = "admin"
    /// Linux's SCSI layer gives a command 30 s by default before it aborts it.
    public static let defaultClusterTimeout = 30
    public static let clusterTimeouts = 1...3600

    public init(pool: String, image: String, namespace: String? = nil, cephConf: String = Self.defaultCephConf,
                client: String = Self.defaultClient, keyring: String? = nil, clusterTimeout: Int = Self.defaultClusterTimeout) {
        self.pool = pool
        self.image = image
        self.namespace = namespace
        self.cephConf = cephConf
        self.client = client
        self.keyring = keyring
        self.clusterTimeout = clusterTimeout
    }

    /// `pool/[namespace/]image`, as `rbd` names it.
    public var name: String { "\(pool)/\(namespace.map { "\($0)/" } ?? "")\(image)" }
}

extension RADOSCluster.Key {
    /// The connection an image's LUN shares with every LUN of the same cluster, user
    /// and timeout.
    init(_ location: RBDImageLocation) {
        self.init(cephConf: location.cephConf, client: location.client, keyring: location.keyring, timeout: location.clusterTimeout)
    }
}

/// An RBD image as a block device, through librbd's asynchronous C API: each I/O is
/// submitted at once and its completion resumes the command (on the connection's event
/// loop, its executor), so no thread waits per I/O. Write data goes out as the segments
/// it arrived in (`rbd_aio_writev`). A resize made elsewhere (`rbd resize`, another
/// gateway) is noticed through `rbd_update_watch`.
public final class RBDBlockDevice: BlockDevice, @unchecked Sendable {  // librbd image handles are thread-safe
    private let cluster: RADOSCluster
    private let ioctx: UnsafeMutableRawPointer
    private let image: UnsafeMutableRawPointer
    private let blockSize: Int
    private let blockCount: Synchronization.Atomic<UInt64>
    private let threadPool: NIOThreadPool
    /// Orders changes of the size (ours, and re-reading it after a header update) and
    /// the close after which the image handle is gone.
    private let sizeChange = NIOLockedValueBox(SizeWatch())
    /// The image's id (`rbd_get_id`): the same wherever the image is opened.
    public let imageID: String
    /// The image has the exclusive-lock feature: one client at a time writes it.
    public let requiresExclusiveLock: Bool
    private let location: RBDImageLocation

    /// A name of the image that every daemon opening it agrees on and that a rename
    /// keeps: its pool, namespace and id. The LUN's identity (VPD 0x80, 0x83) comes
    /// from it, so all gateways exporting the image present one device.
    public var identitySeed: String { "rbd/\(location.pool)/\(location.namespace ?? "")/\(imageID)" }

    private var api: swiftport_rbd_api { cluster.library.api }

    /// The image's header watch, and who is told when the size changes.
    private struct SizeWatch {
        var handle: UInt64?
        var closed = false
        var externalResizeHandler: (@Sendable () -> Void)?
    }

    /// This client's addresses as `ceph osd blocklist add` takes them (the log names them
    /// at open, so an operator can fence or find this gateway).
    public var clientAddress: String { cluster.address }

    private init(
        cluster: RADOSCluster, ioctx: UnsafeMutableRawPointer, image: UnsafeMutableRawPointer, location: RBDImageLocation, blockSize: Int,
        byteCount: UInt64, imageID: String, features: UInt64, threadPool: NIOThreadPool
    ) {
        self.location = location
        self.requiresExclusiveLock = features & Self.exclusiveLockFeature != 0
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
        _ location: RBDImageLocation, blockSize: Int, createSize: UInt64?, threadPool: NIOThreadPool
    ) async throws -> RBDBlockDevice {
        let cluster = try await RADOSCluster.connect(RADOSCluster.Key(location), threadPool: threadPool)
        return try await threadPool.runIfActive {
            let device = try openImage(location, cluster: cluster, blockSize: blockSize, createSize: createSize, threadPool: threadPool)
            try device.watchHeader()
            return device
        }
    }

    private static func openImage(_ location: RBDImageLocation, cluster: RADOSCluster, blockSize: Int, createSize: UInt64?, threadPool: NIOThreadPool) throws -> RBDBlockDevice {
        let api = cluster.library.api
        var ioctx: UnsafeMutableRawPointer?
        try RADOSCluster.check(api.rados_ioctx_create(cluster.handle, location.pool, &ioctx), "open pool \(location.pool)")
        guard let ioctx else { throw BlockStorageError(.openFailed, "librados gave no I/O context for pool \(location.pool)") }
        do {
            if let namespace = location.namespace { api.rados_ioctx_set_namespace(ioctx, namespace) }
            var image: UnsafeMutableRawPointer?
            var opened = api.rbd_open(ioctx, location.image, &image, nil)
            if opened == -Errno.noSuchFileOrDirectory.rawValue, let createSize {
                var order: Int32 = 0
                try RADOSCluster.check(api.rbd_create(ioctx, location.image, createSize, &order), "create image \(location.name) of \(createSize) bytes")
                opened = api.rbd_open(ioctx, location.image, &image, nil)
            }
            try RADOSCluster.check(opened, "open image \(location.name)\(opened == -Errno.noSuchFileOrDirectory.rawValue ? " (it does not exist; set create = true and size to create it)" : "")")
            guard let image else { throw BlockStorageError(.openFailed, "librbd gave no image handle for \(location.name)") }
            do {
                var size: UInt64 = 0
                try RADOSCluster.check(api.rbd_get_size(image, &size), "read the size of \(location.name)")
                guard size % UInt64(blockSize) == 0 else {
                    throw BlockStorageError(.openFailed, "image \(location.name) is \(size) bytes, not a whole number of \(blockSize)-byte blocks; rbd resize it")
                }
                var id = [CChar](repeating: 0, count: 64)
                try RADOSCluster.check(api.rbd_get_id(image, &id, id.count), "read the id of \(location.name)")
                let imageID = CephLibrary.string(id)
                var features: UInt64 = 0
                try RADOSCluster.check(api.rbd_get_features(image, &features), "read the features of \(location.name)")
                return RBDBlockDevice(
                    cluster: cluster, ioctx: ioctx, image: image, location: location, blockSize: blockSize, byteCount: size,
                    imageID: imageID, features: features, threadPool: threadPool)
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
            self.sizeChange.withLockedValue { watch in
                guard !watch.closed else { return }
                watch.closed = true
                // Waits for a callback in progress; none comes after it.
                if let handle = watch.handle {
                    _ = self.api.rbd_update_unwatch(self.image, handle)
                    Unmanaged.passUnretained(self).release()  // the watch's reference
                }
                _ = self.api.rbd_close(self.image)
                self.api.rados_ioctx_destroy(self.ioctx)
            }
        }
    }

    // MARK: - Size

    /// Registers for the image's header updates (a resize among them). The watch holds
    /// a reference to the device until `close`.
    private func watchHeader() throws {
        var handle: UInt64 = 0
        let context = Unmanaged.passRetained(self).toOpaque()
        do {
            try RADOSCluster.check(api.rbd_update_watch(image, &handle, rbdHeaderUpdateCallback, context), "watch image \(location.name) for a resize")
        } catch {
            Unmanaged<RBDBlockDevice>.fromOpaque(context).release()
            _ = api.rbd_close(image)
            api.rados_ioctx_destroy(ioctx)
            throw error
        }
        sizeChange.withLockedValue { $0.handle = handle }
    }

    public func onExternalResize(_ handler: @escaping @Sendable () -> Void) {
        sizeChange.withLockedValue { $0.externalResizeHandler = handler }
    }

    /// The header changed (on a librbd thread, which must not wait on the image): the
    /// size is read again on the thread pool.
    fileprivate func headerUpdated() {
        threadPool.submit { _ in
            let handler = self.sizeChange.withLockedValue { watch -> (@Sendable () -> Void)? in
                var bytes: UInt64 = 0
                guard !watch.closed, self.api.rbd_get_size(self.image, &bytes) == 0 else { return nil }
                let blocks = bytes / UInt64(self.blockSize)
                guard blocks != self.blockCount.load(ordering: .relaxed) else { return nil }
                self.blockCount.store(blocks, ordering: .releasing)
                return watch.externalResizeHandler
            }
            handler?()
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
    /// image (other gateways included), not only this daemon's commands. That holds for
    /// one 512-byte block, what VMware's ATS and Linux send.
    public func compareAndWrite(_ expected: ByteBuffer, _ replacement: ByteBuffer, at lba: UInt64) async throws -> CompareAndWriteResult? {
        let offset = lba * UInt64(blockSize), length = expected.readableBytes
        // librbd compares within one 512-byte sector only (EINVAL beyond): a larger
        // range (a 4096-byte block) is the engine's, atomic within this daemon only.
        guard offset % Self.compareAndWriteSector + UInt64(length) <= Self.compareAndWriteSector else { return nil }
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

    /// The largest range, and the alignment, of librbd's compare-and-write.
    private static let compareAndWriteSector: UInt64 = 512

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
        // Under the size lock, so the header update of this very resize finds the new
        // size already in place and is not taken for one made elsewhere.
        let result = try await threadPool.runIfActive {
            self.sizeChange.withLockedValue { watch -> Int32 in
                guard !watch.closed else { return -Errno.badFileDescriptor.rawValue }
                let result = self.api.rbd_resize(self.image, bytes)
                if result == 0 { self.blockCount.store(blockCount, ordering: .releasing) }
                return result
            }
        }
        try check(Int(result), .writeFailed, "resize the image to \(bytes) bytes")
    }

    // MARK: - Completions

    /// Starts one asynchronous librbd call and waits for its completion's return value
    /// (negative errno on failure).
    private func submit(_ start: (swiftport_rbd_api, UnsafeMutableRawPointer) -> Int32) async -> Int {
        // Fenced off: nothing more goes to the cluster (it would be refused anyway).
        if cluster.isBlocklisted { return -Int(RADOSCluster.blocklistedError.rawValue) }
        let api = self.api
        return await RBDCompletion.run(api) { start(api, $0) }
    }

    private func check(_ result: Int, _ code: BlockStorageError.Code, _ what: @autoclosure () -> String) throws(BlockStorageError) {
        guard result < 0 else { return }
        if result == -Int(Errno.readOnlyFileSystem.rawValue), requiresExclusiveLock {
            // What librbd answers a write without the lock another client took with
            // rbd_lock_acquire (it does not hand such a lock over on request).
            throw BlockStorageError(
                .notLockHolder, "rbd image \(location.name): cannot \(what()): another client holds the image's exclusive lock")
        }
        throw cluster.failure(result, code, subject: "rbd image \(location.name)", what())
    }
}

// MARK: - Exclusive lock

extension RBDBlockDevice: ExclusiveLockDevice {
    /// RBD_FEATURE_EXCLUSIVE_LOCK (rbd/features.h).
    static let exclusiveLockFeature: UInt64 = 1 << 2
    /// RBD_LOCK_MODE_EXCLUSIVE.
    static let exclusiveLockMode: Int32 = 0

    /// `rbd_lock_acquire`; when another client holds the lock (EROFS), each holder is
    /// broken first (`rbd_lock_break`, which also puts it on the blocklist while
    /// `rbd_blocklist_on_break_lock` is on, Ceph's default). librbd breaks a holder
    /// whose watch is gone by itself; one fenced but still watching is broken here.
    public func acquireExclusiveLock() async throws {
        let result = try await threadPool.runIfActive { [self] () -> Int32 in
            if cluster.isBlocklisted { return -RADOSCluster.blocklistedError.rawValue }
            let first = api.rbd_lock_acquire(image, Self.exclusiveLockMode)
            guard first == -Errno.readOnlyFileSystem.rawValue || first == -Errno.resourceBusy.rawValue else { return first }
            for owner in lockOwners() {
                let broken = owner.withCString { api.rbd_lock_break(image, Self.exclusiveLockMode, $0) }
                guard broken == 0 || broken == -Errno.noSuchFileOrDirectory.rawValue else { return broken }
            }
            return api.rbd_lock_acquire(image, Self.exclusiveLockMode)
        }
        try check(Int(result), .writeFailed, "take the exclusive lock")
    }

    public func releaseExclusiveLock() async throws {
        let result = try await threadPool.runIfActive { [self] in api.rbd_lock_release(image) }
        // Not held (EINVAL): nothing to give up.
        guard result != -Errno.invalidArgument.rawValue else { return }
        try check(Int(result), .writeFailed, "release the exclusive lock")
    }

    /// The clients holding the lock (`rbd_lock_get_owners`), by the names
    /// `rbd_lock_break` takes; on the thread pool.
    private func lockOwners() -> [String] {
        var mode: Int32 = 0
        var count = 8
        var owners = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        guard api.rbd_lock_get_owners(image, &mode, &owners, &count) == 0 else { return [] }
        defer { api.rbd_lock_get_owners_cleanup(&owners, count) }
        return owners.prefix(count).compactMap { $0.map { String(cString: $0) } }
    }
}

/// Called on a librbd thread when the image's header changed.
private let rbdHeaderUpdateCallback: swiftport_rbd_update_callback = { context in
    Unmanaged<RBDBlockDevice>.fromOpaque(context!).takeUnretainedValue().headerUpdated()
}


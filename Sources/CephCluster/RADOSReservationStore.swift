import BlockStorage
import CLibRBD
import NIOConcurrencyHelpers
import NIOPosix
import SCSIEngine
import SystemPackage

/// A ``ReservationStore`` in a RADOS pool, shared by every gateway of a cluster: one
/// object per logical unit, `<prefix>pr.<name>`, holding the record's text.
///
/// The store's versions are the objects' own (the version RADOS gives every write), so
/// the compare and swap of ``ReservationStore`` holds across processes: a save or
/// removal asserts the version it replaces (`rados_write_op_assert_version`), a first
/// save creates the object exclusively, and the OSD refuses the operation whole when
/// another gateway wrote first. A write completes once every replica has it, which is
/// the durability APTPL asks for (SPC-4 §5.12.5).
///
/// Everything goes through librados' asynchronous object operations; no thread waits.
public final class RADOSReservationStore: ReservationStore, @unchecked Sendable {  // librados I/O contexts are thread-safe
    let cluster: RADOSCluster
    let ioctx: UnsafeMutableRawPointer
    let pool: String
    let objectPrefix: String
    /// Where calls that wait (the watch, the blocklist) run.
    let threadPool: NIOThreadPool
    /// Set by ``join(_:)``: this gateway's place among the others.
    let membership = NIOLockedValueBox<Membership?>(nil)
    /// The records this gateway has read or written: those it reads again after it
    /// lost its watch.
    let knownRecords = NIOLockedValueBox<Set<String>>([])
    /// The loop that pings the other gateways, from ``join(_:)`` to ``leave()``.
    let heartbeatTask = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// The gateways this one fenced, oldest first (``status(timeout:)``).
    let fences = NIOLockedValueBox<[FenceEvent]>([])
    /// Who hears that this gateway fenced another.
    let peerFencedHandlers = NIOLockedValueBox<[@Sendable (String) async -> Void]>([])
    /// Who hears of the changes other gateways publish.
    let changeHandlers = NIOLockedValueBox<[@Sendable (ReservationChange) async -> Bool]>([])

    /// A record larger than this is refused on save and on load: far more than the
    /// registrations a logical unit accepts would need.
    public static let maximumRecordBytes = 1 << 20

    private init(cluster: RADOSCluster, ioctx: UnsafeMutableRawPointer, pool: String, objectPrefix: String, threadPool: NIOThreadPool) {
        self.cluster = cluster
        self.threadPool = threadPool
        self.ioctx = ioctx
        self.pool = pool
        self.objectPrefix = objectPrefix
    }

    deinit {
        cluster.library.api.rados_ioctx_destroy(ioctx)
    }

    /// The store in `pool` (and `namespace`) of the cluster `cephConf` describes, reached
    /// as `client.<client>`; every object's name starts with `objectPrefix`. The connect
    /// runs on `threadPool` and is shared with rbd LUNs of the same cluster, user and
    /// timeout.
    public static func open(
        cephConf: String, client: String, keyring: String?, timeout: Int, pool: String, namespace: String?, objectPrefix: String,
        threadPool: NIOThreadPool
    ) async throws -> RADOSReservationStore {
        let cluster = try await RADOSCluster.connect(
            RADOSCluster.Key(cephConf: cephConf, client: client, keyring: keyring, timeout: timeout), threadPool: threadPool)
        let api = cluster.library.api
        var ioctx: UnsafeMutableRawPointer?
        try RADOSCluster.check(api.rados_ioctx_create(cluster.handle, pool, &ioctx), "open pool \(pool) for the shared reservations")
        guard let ioctx else { throw SCSIEngineError(.reservationStoreFailed, "librados gave no I/O context for pool \(pool)") }
        if let namespace { api.rados_ioctx_set_namespace(ioctx, namespace) }
        return RADOSReservationStore(cluster: cluster, ioctx: ioctx, pool: pool, objectPrefix: objectPrefix, threadPool: threadPool)
    }

    var api: swiftport_rbd_api { cluster.library.api }

    func objectName(_ name: String) -> String { "\(objectPrefix)pr.\(name)" }

    public func load(_ name: String) async throws -> ReservationRecord? {
        knownRecords.withLockedValue { _ = $0.insert(name) }
        return try await read(objectName(name)).map { ReservationRecord(text: $0.text, version: ReservationRecord.Version(rawValue: $0.version)) }
    }

    /// An object's text and version, or nil when there is no such object.
    func read(_ object: String) async throws -> (text: String, version: UInt64)? {
        // One byte more than a record may have, to tell a record that fits from one cut short.
        let capacity = Self.maximumRecordBytes + 1
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
        let bytesRead = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        let readResult = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer {
            buffer.deallocate()
            bytesRead.deallocate()
            readResult.deallocate()
        }
        (bytesRead.pointee, readResult.pointee) = (0, 0)
        let (result, version) = try await operate(.read, object) { api, completion in
            guard let operation = api.rados_create_read_op() else { return -Errno.noMemory.rawValue }
            defer { api.rados_release_read_op(operation) }
            api.rados_read_op_read(operation, 0, capacity, buffer.assumingMemoryBound(to: CChar.self), bytesRead, readResult)
            return api.rados_aio_read_op_operate(operation, ioctx, completion, object, 0)
        }
        if result == -Errno.noSuchFileOrDirectory.rawValue { return nil }
        try check(result, "read", object)
        let length = bytesRead.pointee
        guard length <= Self.maximumRecordBytes else {
            throw SCSIEngineError(
                .reservationStoreFailed, "object \(object) in pool \(pool) is larger than \(Self.maximumRecordBytes) bytes: not a Swiftport record")
        }
        return (String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self), version)
    }

    public func save(_ text: String, as name: String, replacing version: ReservationRecord.Version?) async throws -> ReservationRecord.Version {
        let object = objectName(name)
        let length = text.utf8.count
        guard length <= Self.maximumRecordBytes else {
            throw SCSIEngineError(.reservationStoreFailed, "the record for \(object) is \(length) bytes, more than \(Self.maximumRecordBytes)")
        }
        let (result, saved) = try await operate(.write, object) { api, completion in
            guard let operation = api.rados_create_write_op() else { return -Errno.noMemory.rawValue }
            defer { api.rados_release_write_op(operation) }
            if let version {
                api.rados_write_op_assert_version(operation, version.rawValue)
            } else {
                api.rados_write_op_create(operation, Self.createExclusive, nil)
            }
            // librados copies the data into the operation here.
            text.withCString { api.rados_write_op_write_full(operation, $0, length) }
            return api.rados_aio_write_op_operate(operation, ioctx, completion, object, nil, 0)
        }
        try checkReplacing(result, version, "write", object)
        return ReservationRecord.Version(rawValue: saved)
    }

    public func remove(_ name: String, replacing version: ReservationRecord.Version?) async throws {
        guard let version else { return }
        let object = objectName(name)
        let (result, _) = try await operate(.write, object) { api, completion in
            guard let operation = api.rados_create_write_op() else { return -Errno.noMemory.rawValue }
            defer { api.rados_release_write_op(operation) }
            api.rados_write_op_assert_version(operation, version.rawValue)
            api.rados_write_op_remove(operation)
            return api.rados_aio_write_op_operate(operation, ioctx, completion, object, nil, 0)
        }
        try checkReplacing(result, version, "remove", object)
    }

    /// LIBRADOS_CREATE_EXCLUSIVE: the creation fails with EEXIST if the object exists.
    private static let createExclusive: Int32 = 1

    // MARK: - Completions

    enum Direction { case read, write }

    /// Starts one asynchronous object operation (`start` builds it and submits it with
    /// the completion it is given) and waits for its result (negative errno on
    /// failure) and the object's version.
    func operate(
        _ direction: Direction, _ object: String, _ start: (swiftport_rbd_api, UnsafeMutableRawPointer) -> Int32
    ) async throws -> (Int32, UInt64) {
        if cluster.isBlocklisted {
            throw SCSIEngineError(.reservationStoreFailed, "the cluster put this gateway on its blocklist: \(object) is not \(direction == .read ? "read" : "written")")
        }
        let api = self.api
        let outcome = await RADOSCompletion.run(api) { start(api, $0) }
        return (outcome.result, outcome.version)
    }

    /// A change naming a version fails as a conflict when the object is no longer at
    /// it: another gateway wrote (ERANGE: newer, EOVERFLOW: older, which a removal and
    /// re-creation can give), removed it (ENOENT), or created it first (EEXIST).
    func checkReplacing(_ result: Int32, _ version: ReservationRecord.Version?, _ what: String, _ object: String) throws {
        guard result < 0 else { return }
        switch Errno(rawValue: -result) {
        case .outOfRange, .overflow, .noSuchFileOrDirectory, .fileExists:
            throw SCSIEngineError(
                .reservationStoreConflict,
                "object \(object) in pool \(pool) is no longer at version \(version.map(String.init(describing:)) ?? "none (absent)"): "
                    + "another gateway changed it first (\(Errno(rawValue: -result)))")
        default:
            try check(result, what, object)
        }
    }

    func check(_ result: Int32, _ what: String, _ object: String) throws {
        guard result < 0 else { return }
        let failure = cluster.failure(Int(result), .writeFailed, subject: "object \(object) in pool \(pool)", what)
        throw SCSIEngineError(.reservationStoreFailed, failure.message)
    }
}

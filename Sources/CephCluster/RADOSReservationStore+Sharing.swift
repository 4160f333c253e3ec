import CLibRBD
import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SCSIEngine
import SystemPackage

/// The gateways of one cluster hearing of each other's changes: every gateway watches
/// one object, `<prefix>changes` (`rados_watch3`), and a change is published as a
/// notification on it (`rados_aio_notify`), which completes once every watcher has
/// acknowledged it or the acknowledgement timeout has passed. A watcher acknowledges
/// only after its device servers have applied the change. A gateway that did not
/// acknowledge is put on the cluster's blocklist (`rados_blocklist_add`) before
/// `publish` returns: from then on none of its writes, in flight or later, can land,
/// so nobody acts on a state it still holds.
///
/// The watch is also the gateway's heartbeat: the OSD drops it when the gateway has not
/// been heard from for `heartbeat` seconds, and then nothing waits for it.
extension RADOSReservationStore: SharedReservationStore {
    /// This gateway among the others.
    public struct Membership: Sendable {
        /// This gateway's name (`[cluster] gateway`).
        public var gateway: String
        /// The other gateways' names: the ones that may have to be fenced.
        public var peers: [String]
        /// Seconds of silence after which a gateway is fenced (the watch's timeout too).
        public var heartbeat: Int
        /// Seconds a published change waits for the other gateways' acknowledgements.
        public var acknowledgementTimeout: Int
        /// Seconds a fenced gateway stays on the blocklist (0: Ceph's default, an hour).
        public var fenceDuration: Int
        var logger: Logger
        var instance: UInt64 = 0
        var cookie: UInt64 = 0

        public init(gateway: String, peers: [String], heartbeat: Int, acknowledgementTimeout: Int, fenceDuration: Int, logger: Logger) {
            self.gateway = gateway
            self.peers = peers
            self.heartbeat = heartbeat
            self.acknowledgementTimeout = acknowledgementTimeout
            self.fenceDuration = fenceDuration
            self.logger = logger
        }
    }

    var changesObject: String { "\(objectPrefix)changes" }

    /// This store's librados client, as notification replies name it.
    var clientInstance: UInt64 { api.rados_get_instance_id(cluster.handle) }

    func memberObject(_ gateway: String) -> String { "\(objectPrefix)gateway.\(gateway)" }

    /// Joins the cluster's gateways: starts watching for changes, then records this
    /// gateway's client instance and address (`<prefix>gateway.<name>`), from which the
    /// others expect an acknowledgement of every change and which they fence when it
    /// does not come. In this order, no change published after the record is missed.
    /// Call ``leave()`` before dropping the store.
    public func join(_ membership: Membership) async throws {
        var membership = membership
        membership.instance = clientInstance
        // Idempotent: every gateway makes sure the watched object exists.
        let changes = changesObject
        let (created, _) = try await operate(.write, changes) { api, completion in
            guard let operation = api.rados_create_write_op() else { return -Errno.noMemory.rawValue }
            defer { api.rados_release_write_op(operation) }
            api.rados_write_op_create(operation, 0, nil)
            return api.rados_aio_write_op_operate(operation, ioctx, completion, changes, nil, 0)
        }
        try check(created, "create", changes)
        self.membership.withLockedValue { $0 = membership }
        let context = Unmanaged.passRetained(self)
        do {
            try await watch(heartbeat: membership.heartbeat)
            try await writeWhole(memberObject(membership.gateway), GatewayRecord(instance: membership.instance, address: cluster.address).serialized)
        } catch {
            self.membership.withLockedValue { $0 = nil }
            context.release()
            throw error
        }
        let joined = membership
        let heartbeat = Task { await heartbeats(joined) }
        heartbeatTask.withLockedValue { $0 = heartbeat }
        membership.logger.notice(
            "joined the cluster's gateways",
            metadata: [
                "gateway": "\(membership.gateway)", "client_instance": "\(membership.instance)", "client_address": "\(cluster.address)",
                "peers": "\(membership.peers.joined(separator: ","))",
            ])
    }

    /// Watches the changes object (again: after a lost watch), keeping the cookie.
    private func watch(heartbeat: Int) async throws {
        let changes = changesObject
        // rados_watch3 waits for the OSD's answer: on the pool, not the caller's thread.
        let (result, cookie) = try await threadPool.runIfActive { [self] in
            var cookie: UInt64 = 0
            // Retained by join until leave.
            let context = Unmanaged.passUnretained(self).toOpaque()
            let result = api.rados_watch3(
                ioctx, changes, &cookie, radosNotifyCallback, radosWatchErrorCallback, UInt32(heartbeat), context)
            return (result, cookie)
        }
        try check(result, "watch", changes)
        membership.withLockedValue { $0?.cookie = cookie }
    }

    /// Leaves the cluster: the others stop expecting this gateway's acknowledgements
    /// (its record is removed), and no change handler runs after this returns.
    public func leave() async throws {
        guard let membership = membership.withLockedValue({ $0 }) else { return }
        let member = memberObject(membership.gateway)
        if let record = try await read(member), GatewayRecord(serialized: record.text)?.instance == membership.instance {
            try await removeObject(member, version: record.version)
        }
        self.membership.withLockedValue { $0 = nil }
        heartbeatTask.withLockedValue { $0?.cancel() }
        try await threadPool.runIfActive { [self] in
            _ = api.rados_unwatch2(ioctx, membership.cookie)
            // Waits for callbacks in progress; none comes after it.
            _ = api.rados_watch_flush(cluster.handle)
        }
        Unmanaged.passUnretained(self).release()
    }

    /// Adds `handler`, called once when the cluster fences this gateway (its client is
    /// on the blocklist): from then on nothing it sends lands, and it must stop serving.
    public func onFenced(_ handler: @escaping @Sendable () -> Void) {
        cluster.onBlocklisted(handler)
    }

    /// Adds `handler`, called with a gateway's name once this gateway has fenced it.
    public func onPeerFenced(_ handler: @escaping @Sendable (String) async -> Void) {
        peerFencedHandlers.withLockedValue { $0.append(handler) }
    }

    public func onChange(_ handler: @escaping @Sendable (ReservationChange) async -> Bool) {
        changeHandlers.withLockedValue { $0.append(handler) }
    }

    public func publish(_ change: ReservationChange) async throws {
        guard let membership = membership.withLockedValue({ $0 }) else {
            throw SCSIEngineError(.reservationStoreFailed, "this gateway has not joined the cluster: nobody hears of \(change.name)'s change")
        }
        // The records are read first: a gateway watches before it writes its record, so
        // every one found here hears the notification; one that joins while it is under
        // way need not have (it reads the records once it has joined).
        let members = try await members(membership.peers)
        let answer = try await notify(change.serialized, timeout: membership.acknowledgementTimeout)
        // Every gateway with a record must have applied the change: one that timed out,
        // or whose watch has lapsed (it did not even hear of it), is fenced.
        for (peer, member, version) in members where !answer.acknowledged.contains(member.instance) {
            let reason = answer.timedOut.contains(member.instance)
                ? "did not acknowledge within \(membership.acknowledgementTimeout) s" : "was not watching (its heartbeat lapsed)"
            try await fence(peer, member, version: version, reason: reason, membership, unit: change.name)
        }
    }

    /// The member records of the gateways `names` that have one, with their versions.
    private func members(_ names: [String]) async throws -> [(name: String, record: GatewayRecord, version: UInt64)] {
        var members: [(name: String, record: GatewayRecord, version: UInt64)] = []
        for name in names {
            if let record = try await read(memberObject(name)), let member = GatewayRecord(serialized: record.text) {
                members.append((name, member, record.version))
            }
        }
        return members
    }

    /// Puts gateway `peer` (its client `member`) on the blocklist and removes its
    /// record, so later changes do not fence it again; it rejoins with a new client.
    private func fence(
        _ peer: String, _ member: GatewayRecord, version: UInt64, reason: String, _ membership: Membership, unit: String?
    ) async throws {
        let address = member.address
        let duration = UInt32(membership.fenceDuration)
        let (result, step) = try await threadPool.runIfActive { [self] in
            let added = address.withCString { api.rados_blocklist_add(cluster.handle, UnsafeMutablePointer(mutating: $0), duration) }
            guard added == 0 else { return (added, "put gateway \(peer) (\(address)) on the blocklist after") }
            // Our next operations carry the map with the blocklist in it, so the
            // OSDs that serve them refuse the fenced gateway's from then on.
            return (api.rados_wait_for_latest_osdmap(cluster.handle), "wait for the map that fences gateway \(peer) after")
        }
        if result < 0 { try check(result, step, changesObject) }
        do {
            try await removeObject(memberObject(peer), version: version)
        } catch let error as SCSIEngineError where error.code == .reservationStoreConflict {
            // It rejoined meanwhile with a new client: that record stays.
        }
        // A change and the heartbeats can both find the same gateway silent: each waits
        // for its own blocklist call (the second changes nothing), the first tells.
        let first = fences.withLockedValue { fences -> Bool in
            guard !fences.contains(where: { $0.clientInstance == member.instance }) else { return false }
            fences.append(FenceEvent(gateway: peer, clientInstance: member.instance, clientAddress: address, reason: reason, unit: unit, time: time(nil)))
            return true
        }
        guard first else { return }
        membership.logger.critical(
            "fenced a gateway: it can no longer write to the cluster",
            metadata: [
                "gateway": "\(peer)", "reason": "\(reason)", "client_instance": "\(member.instance)", "client_address": "\(address)",
                "unit": "\(unit ?? "-")",
            ])
        // Not awaited: a change that fenced the peer need not wait for what follows.
        let handlers = peerFencedHandlers.withLockedValue { $0 }
        Task { for handler in handlers { await handler(peer) } }
    }

    /// A notification that asks only for an acknowledgement: who answers is alive.
    static let ping = "swiftport-ping"

    /// Pings the other gateways every third of `heartbeat` (at least every second) and
    /// fences one with a member record that has answered none for `heartbeat`
    /// seconds: a gateway that froze or died is fenced even when no change is made,
    /// so none of the writes it still holds can land after the hosts have gone on
    /// through another gateway. Runs until ``leave()`` or this gateway is fenced.
    private func heartbeats(_ membership: Membership) async {
        let period = max(1, membership.heartbeat / 3)
        let clock = ContinuousClock()
        var ledger = HeartbeatLedger(silence: .seconds(membership.heartbeat))
        while !Task.isCancelled, !cluster.isBlocklisted {
            try? await Task.sleep(for: .seconds(period))
            guard !Task.isCancelled, !cluster.isBlocklisted else { return }
            do {
                let answer = try await notify(Self.ping, timeout: period)
                let members = try await members(membership.peers)
                let silent = ledger.observe(
                    members: Set(members.map(\.record.instance)), acknowledged: Set(answer.acknowledged), at: clock.now)
                for (peer, member, version) in members where silent.contains(member.instance) {
                    try await fence(
                        peer, member, version: version, reason: "answered no heartbeat for \(membership.heartbeat) s", membership, unit: nil)
                }
            } catch {
                membership.logger.error("cannot ping the other gateways", metadata: ["error": "\(error)"])
            }
        }
    }

    /// A gateway of the cluster as ``status(timeout:)`` finds it.
    public struct GatewayState: Sendable, Codable, Hashable {
        public var name: String
        public var isThisGateway: Bool
        /// Its member record: nil when it has not joined (or left, or was fenced).
        public var clientInstance: UInt64?
        public var clientAddress: String?
        /// It acknowledged a ping just now.
        public var answering: Bool
    }

    /// A gateway this one fenced.
    public struct FenceEvent: Sendable, Codable, Hashable {
        public var gateway: String
        public var clientInstance: UInt64
        public var clientAddress: String
        public var reason: String
        /// The unit whose change it did not acknowledge; nil: it stopped answering
        /// heartbeats.
        public var unit: String?
        /// Seconds since the epoch.
        public var time: Int
    }

    /// What ``status(timeout:)`` finds.
    public struct Status: Sendable {
        public var gateways: [GatewayState]
        /// The fences this gateway has made since it started, oldest first.
        public var fences: [FenceEvent]
        /// This gateway's own client is on the blocklist.
        public var fenced: Bool
    }

    /// The gateways (each one's member record, and whether it answers a ping within
    /// `timeout` seconds), and the fences this gateway has made since it started.
    public func status(timeout: Int = 2) async throws -> Status {
        guard let membership = membership.withLockedValue({ $0 }) else {
            throw SCSIEngineError(.reservationStoreFailed, "this gateway has not joined the cluster")
        }
        let answering = cluster.isBlocklisted ? [] : Set(try await notify(Self.ping, timeout: timeout).acknowledged)
        let names = [membership.gateway] + membership.peers
        let records = try await members(names)
        let gateways = names.map { name in
            let member = records.first { $0.name == name }?.record
            return GatewayState(
                name: name, isThisGateway: name == membership.gateway, clientInstance: member?.instance,
                clientAddress: member?.address, answering: member.map { answering.contains($0.instance) } ?? false)
        }
        return Status(gateways: gateways, fences: fences.withLockedValue { $0 }, fenced: cluster.isBlocklisted)
    }

    /// Sends `text` to every watcher of the changes object and returns who
    /// acknowledged within `timeout` seconds and who did not.
    private func notify(_ text: String, timeout: Int) async throws -> NotifyReply {
        let object = changesObject
        let reply = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
        let replyLength = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        (reply.pointee, replyLength.pointee) = (nil, 0)
        defer {
            if let buffer = reply.pointee { api.rados_buffer_free(buffer) }
            reply.deallocate()
            replyLength.deallocate()
        }
        let milliseconds = UInt64(timeout) * 1000
        let (result, _) = try await operate(.write, object) { api, completion in
            // librados copies the payload before this returns.
            text.withCString { api.rados_aio_notify(ioctx, object, completion, $0, Int32(text.utf8.count), milliseconds, reply, replyLength) }
        }
        if result < 0 && result != -Errno.timedOut.rawValue { try check(result, "notify the other gateways through", object) }
        return reply.pointee.flatMap { NotifyReply(UnsafeRawBufferPointer(start: $0, count: replyLength.pointee)) } ?? NotifyReply()
    }

    /// A notification from a watcher's callback (a librados thread): applied by every
    /// handler, then acknowledged, unless a handler could not apply it: the publisher
    /// then fences this gateway. Our own notifications are acknowledged at once.
    fileprivate func received(_ text: String, notification: UInt64, cookie: UInt64, from notifier: UInt64) {
        guard let membership = membership.withLockedValue({ $0 }) else { return }
        let object = changesObject
        let acknowledge = { [self] in _ = api.rados_notify_ack(ioctx, object, notification, cookie, nil, 0) }
        if notifier == membership.instance || text == Self.ping { return acknowledge() }
        guard let change = ReservationChange(serialized: text) else {
            membership.logger.error(
                "ignoring a notification that is not a reservation change",
                metadata: ["object": "\(object)", "from_client": "\(notifier)", "bytes": "\(text.utf8.count)"])
            return acknowledge()
        }
        let handlers = changeHandlers.withLockedValue { $0 }
        Task {
            var applied = true
            for handler in handlers { applied = await handler(change) && applied }
            if applied { acknowledge() }
        }
    }

    /// The watch is gone (the OSD session dropped, or the cluster blocklisted this
    /// client): watched again, and every record read again, since changes published
    /// meanwhile were not heard. A blocklisted client stays out.
    fileprivate func watchFailed(_ error: Int32) {
        guard let membership = membership.withLockedValue({ $0 }) else { return }
        membership.logger.error(
            "lost the watch on the cluster's changes; watching again",
            metadata: ["object": "\(changesObject)", "error": "\(Errno(rawValue: -error))"])
        Task {
            for attempt in 1...Self.rewatchAttempts {
                guard self.membership.withLockedValue({ $0?.instance == membership.instance }), !cluster.isBlocklisted else { return }
                do {
                    _ = try await threadPool.runIfActive { [self] in api.rados_unwatch2(ioctx, membership.cookie) }
                    try await watch(heartbeat: membership.heartbeat)
                    try await readAgain(membership)
                    return
                } catch {
                    membership.logger.error("cannot watch the cluster's changes again", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    static let rewatchAttempts = 30

    /// Reads every record this gateway uses and hands each to the change handlers,
    /// which install the ones newer than theirs.
    private func readAgain(_ membership: Membership) async throws {
        let names = knownRecords.withLockedValue { $0 }
        let handlers = changeHandlers.withLockedValue { $0 }
        for name in names {
            guard let record = try await load(name) else { continue }
            for handler in handlers { _ = await handler(ReservationChange(name: name, record: record)) }
        }
        membership.logger.notice("watching the cluster's changes again", metadata: ["records_read": "\(names.count)"])
    }

    /// Removes an object if it is still at `version`.
    private func removeObject(_ object: String, version: UInt64) async throws {
        let (result, _) = try await operate(.write, object) { api, completion in
            guard let operation = api.rados_create_write_op() else { return -Errno.noMemory.rawValue }
            defer { api.rados_release_write_op(operation) }
            api.rados_write_op_assert_version(operation, version)
            api.rados_write_op_remove(operation)
            return api.rados_aio_write_op_operate(operation, ioctx, completion, object, nil, 0)
        }
        try checkReplacing(result, ReservationRecord.Version(rawValue: version), "remove", object)
    }

    /// Replaces an object's whole content.
    func writeWhole(_ object: String, _ text: String) async throws {
        let length = text.utf8.count
        let (result, _) = try await operate(.write, object) { api, completion in
            guard let operation = api.rados_create_write_op() else { return -Errno.noMemory.rawValue }
            defer { api.rados_release_write_op(operation) }
            text.withCString { api.rados_write_op_write_full(operation, $0, length) }
            return api.rados_aio_write_op_operate(operation, ioctx, completion, object, nil, 0)
        }
        try check(result, "write", object)
    }
}

/// Runs on a librados thread for every notification on the watched object.
private let radosNotifyCallback: swiftport_rados_notify_callback = { argument, notification, cookie, notifier, data, length in
    guard let argument else { return }
    let text = data.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
    Unmanaged<RADOSReservationStore>.fromOpaque(argument).takeUnretainedValue()
        .received(text, notification: notification, cookie: cookie, from: notifier)
}

/// Runs on a librados thread when the watch is lost (its connection, or the blocklist).
private let radosWatchErrorCallback: swiftport_rados_watch_error_callback = { argument, _, error in
    guard let argument else { return }
    Unmanaged<RADOSReservationStore>.fromOpaque(argument).takeUnretainedValue().watchFailed(Int32(error))
}

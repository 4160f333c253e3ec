import BlockStorage
import CLibRBD
import NIOConcurrencyHelpers
import NIOPosix
import Synchronization
import SystemPackage

/// One connection to a Ceph cluster (a `rados_t`), shared by every rbd LUN with the same
/// configuration file, client name, keyring and timeout.
package final class RADOSCluster: @unchecked Sendable {  // the handle is thread-safe (librados)
    package struct Key: Hashable, Sendable {
        package var cephConf: String
        /// The Ceph user, without "client.".
        package var client: String
        package var keyring: String?
        /// Seconds an operation (and the connect) may take before it fails.
        package var timeout: Int

        package init(cephConf: String, client: String, keyring: String?, timeout: Int) {
            (self.cephConf, self.client, self.keyring, self.timeout) = (cephConf, client, keyring, timeout)
        }
    }

    package let library: CephLibrary
    package let handle: UnsafeMutableRawPointer
    package let key: Key
    /// This client's addresses (`rados_getaddrs`), which `ceph osd blocklist` names.
    package let address: String
    /// The cluster put this client on its blocklist: every image of it is fenced off.
    private let blocklisted = Synchronization.Atomic(false)
    /// Who hears, once, that the cluster refused this client.
    private let blocklistHandlers = NIOLockedValueBox<[@Sendable () -> Void]>([])

    private init(library: CephLibrary, handle: UnsafeMutableRawPointer, key: Key, address: String) {
        self.library = library
        self.handle = handle
        self.key = key
        self.address = address
    }

    private static let connected = NIOLockedValueBox<[Key: RADOSCluster]>([:])

    /// The cluster for `key`, connected on first use (on `threadPool`: `rados_connect`
    /// blocks until the monitors answer or `client_mount_timeout` passes).
    package static func connect(_ key: Key, threadPool: NIOThreadPool) async throws -> RADOSCluster {
        if let cluster = connected.withLockedValue({ $0[key] }) { return cluster }
        let library = try CephLibrary.shared.get()
        let cluster = try await threadPool.runIfActive { try RADOSCluster(connecting: key, library: library) }
        return connected.withLockedValue { clusters in
            if let earlier = clusters[key] {
                library.api.rados_shutdown(cluster.handle)
                return earlier
            }
            clusters[key] = cluster
            return cluster
        }
    }

    private convenience init(connecting key: Key, library: CephLibrary) throws {
        let api = library.api
        var handle: UnsafeMutableRawPointer?
        try Self.check(api.rados_create2(&handle, "ceph", "client.\(key.client)", 0), "create a cluster handle for client.\(key.client)")
        guard let handle else { throw BlockStorageError(.openFailed, "librados gave no cluster handle") }
        do {
            try Self.check(api.rados_conf_read_file(handle, key.cephConf), "read the Ceph configuration \(key.cephConf)")
            if let keyring = key.keyring { try Self.check(api.rados_conf_set(handle, "keyring", keyring), "use the keyring \(keyring)") }
            // An unreachable cluster ends I/O and the connect with an error, never a hang.
            for option in ["rados_osd_op_timeout", "rados_mon_op_timeout", "client_mount_timeout"] {
                try Self.check(api.rados_conf_set(handle, option, "\(key.timeout)"), "set \(option)")
            }
            // A discard of part of an object must zero it, not be skipped (librbd's
            // default): an unmapped block reads as zeros (LBPRZ = 1, SBC-3 §4.7.4.5).
            try Self.check(api.rados_conf_set(handle, "rbd_skip_partial_discard", "false"), "set rbd_skip_partial_discard")
            // A write is acknowledged only once the OSDs have it. librbd's writeback
            // cache (on after the first flush) acknowledges from this process's memory:
            // after a failover another gateway, or this daemon restarted, would read
            // what the host was told is written as never written.
            try Self.check(api.rados_conf_set(handle, "rbd_cache", "false"), "set rbd_cache")
            // Watches are kept alive by a ping every objecter tick (5 s by default); a
            // gateway's heartbeat watch lapses after a few seconds without one.
            try Self.check(api.rados_conf_set(handle, "objecter_tick_interval", "1"), "set objecter_tick_interval")
            var monitors = [CChar](repeating: 0, count: 1024)
            let monitorList = api.rados_conf_get(handle, "mon_host", &monitors, monitors.count) == 0 ? CephLibrary.string(monitors) : ""
            try Self.check(
                api.rados_connect(handle),
                "connect to the cluster of \(key.cephConf) (monitors \(monitorList.isEmpty ? "not set" : monitorList)) as client.\(key.client) within \(key.timeout) s")
            var addresses: UnsafeMutablePointer<CChar>?
            let address = api.rados_getaddrs(handle, &addresses) == 0 ? addresses.map { String(cString: $0) } ?? "" : ""
            free(addresses)
            self.init(library: library, handle: handle, key: key, address: address)
        } catch {
            api.rados_shutdown(handle)
            throw error
        }
    }

    package static func check(_ result: Int32, _ what: @autoclosure () -> String) throws(BlockStorageError) {
        guard result < 0 else { return }
        throw BlockStorageError(.openFailed, "cannot \(what()): \(Errno(rawValue: -result))")
    }

    /// ESHUTDOWN, which Ceph calls EBLOCKLISTED: the cluster refuses this client.
    package static let blocklistedError = Errno(rawValue: 108)

    /// Whether the cluster has refused this client; from then on no I/O is sent.
    package var isBlocklisted: Bool { blocklisted.load(ordering: .relaxed) }

    /// Adds `handler`, called once (on the thread that found out) when the cluster
    /// refuses this client.
    package func onBlocklisted(_ handler: @escaping @Sendable () -> Void) {
        blocklistHandlers.withLockedValue { $0.append(handler) }
    }

    /// What a failed operation's negative errno means for the LUN: a timeout is a
    /// cluster out of reach for now, the blocklist is for good (and for every image of
    /// this client), anything else is the operation's own failure (`code`).
    package func failure(_ result: Int, _ code: BlockStorageError.Code, subject: String, _ what: String) -> BlockStorageError {
        let errno = Errno(rawValue: Int32(-result))
        switch errno {
        case Self.blocklistedError:
            if blocklisted.exchange(true, ordering: .relaxed) == false {
                for handler in blocklistHandlers.withLockedValue({ $0 }) { handler() }
            }
            return BlockStorageError(
                .fenced,
                "\(subject): cannot \(what): the cluster put this client (client.\(key.client), \(address)) on its blocklist, so "
                    + "another gateway has taken over; its rbd LUNs and shared state stay offline until the daemon is restarted")
        case .timedOut:
            return BlockStorageError(
                .unavailable, "\(subject): cannot \(what): no answer from the cluster within cluster_timeout = \(key.timeout) s")
        default:
            return BlockStorageError(code, "\(subject): cannot \(what): \(errno)")
        }
    }
}

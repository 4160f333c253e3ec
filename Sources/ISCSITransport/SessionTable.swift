import ISCSIProtocol
import NIOConcurrencyHelpers
import NIOCore
import SCSIEngine

/// Live sessions across all portals: hands out TSIHs and finds the session a login
/// reinstates (RFC 7143 §6.3.5: same initiator port name and target, TSIH 0).
public final class SessionTable: Sendable {
    /// What identifies a session to its initiator (ISID + initiator name, per target).
    public struct Key: Hashable, Sendable {
        public var initiatorName: String
        public var isid: ISID
        public var targetName: String
    }

    /// What the table knows of one session.
    public struct Entry: Sendable {
        public var tsih: TSIH
        public var key: Key
        public var peer: String
        public var portal: String
        /// The session's I_T nexus; nil for a discovery session.
        public var nexus: ITNexus?
        /// Closes the session's connection (used for reinstatement and shutdown).
        public var close: @Sendable () -> Void
        /// Tells when the session's tasks have all left the device server.
        var drain: SessionDrain
        /// Ends the session's tasks in a logical unit (wire LUN; every unit when nil) for
        /// another nexus's task management function, then calls `done` once they have
        /// left the device server and the initiator has acknowledged their TASK ABORTED
        /// responses (RFC 7143 §11.6.2 d), or the connection is gone.
        var abortTasks: @Sendable (_ lun: UInt64?, _ done: @escaping @Sendable () -> Void) -> Void
    }

    private struct State {
        var nextTSIH: UInt16 = 1
        var sessions: [UInt16: Entry] = [:]
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Registers a new session, closing any session it reinstates. Returns its TSIH and
    /// the drains of the reinstated sessions: the login completes only once they have
    /// drained (RFC 7143 §6.3.5).
    func open(
        key: Key, peer: String, portal: String, nexus: ITNexus?, drain: SessionDrain,
        abortTasks: @escaping @Sendable (_ lun: UInt64?, _ done: @escaping @Sendable () -> Void) -> Void,
        close: @escaping @Sendable () -> Void
    ) -> (TSIH, reinstated: [SessionDrain]) {
        let (tsih, replaced) = state.withLockedValue { state -> (TSIH, [Entry]) in
            let replaced = state.sessions.values.filter { $0.key == key }
            for old in replaced { state.sessions[old.tsih.rawValue] = nil }
            var candidate = state.nextTSIH
            while candidate == 0 || state.sessions[candidate] != nil { candidate &+= 1 }
            state.nextTSIH = candidate &+ 1
            state.sessions[candidate] = Entry(
                tsih: TSIH(candidate), key: key, peer: peer, portal: portal, nexus: nexus, close: close, drain: drain, abortTasks: abortTasks)
            return (TSIH(candidate), replaced)
        }
        for old in replaced { old.close() }
        return (tsih, replaced.map(\.drain))
    }

    /// Whether a TSIH names a live session.
    public func contains(_ tsih: TSIH) -> Bool {
        state.withLockedValue { $0.sessions[tsih.rawValue] != nil }
    }

    /// Forgets a session whose connection ended and whose tasks have all left the
    /// device server. Until then its entry stays, so a login that reinstates it waits.
    /// A session already replaced by one reinstating it is gone from the table, and its
    /// TSIH may name another session by now: `drain` tells them apart.
    func close(_ tsih: TSIH, drain: SessionDrain) {
        state.withLockedValue { state in
            if state.sessions[tsih.rawValue]?.drain === drain { state.sessions[tsih.rawValue] = nil }
        }
    }

    /// Ends the tasks in a logical unit (every unit when `lun` is nil) of every session
    /// of `targetName` but `issuer`'s, for a CLEAR TASK SET, LOGICAL UNIT RESET or
    /// target reset received on `issuer` (SAM-5 §7.4, §7.7, §7.9). Returns once every
    /// session has done its part (see `Entry.abortTasks`); they do it at once, each
    /// waiting for its own initiator.
    func abortTasks(ofTarget targetName: String, lun: UInt64?, except issuer: TSIH) async {
        await abortTasks(of: entries.filter { $0.key.targetName == targetName && $0.tsih != issuer }, lun: lun)
    }

    /// Ends the tasks in a logical unit of the sessions of `targetName` whose I_T nexus
    /// `matching` selects, for the device server (PREEMPT AND ABORT, SPC-4
    /// §5.12.11.2.6; a reset made through another gateway). Returns as the above.
    public func abortTasks(ofTarget targetName: String, lun: UInt64, matching: @Sendable (ITNexus) -> Bool) async {
        await abortTasks(of: entries.filter { $0.key.targetName == targetName && $0.nexus.map(matching) == true }, lun: lun)
    }

    private func abortTasks(of others: [Entry], lun: UInt64?) async {
        await withTaskGroup(of: Void.self) { group in
            for entry in others {
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        entry.abortTasks(lun) { continuation.resume() }
                    }
                }
            }
        }
    }

    /// A snapshot of every session, for `swiftport sessions`.
    public var entries: [Entry] {
        state.withLockedValue { Array($0.sessions.values) }.sorted { $0.tsih.rawValue < $1.tsih.rawValue }
    }

    /// Closes the sessions whose connection came in through a portal (portal disabled).
    /// Each leaves the table once its tasks have drained.
    public func closeAll(onPortal portal: String) {
        for entry in entries where entry.portal == portal { entry.close() }
    }

    /// Closes every session (daemon shutdown).
    public func closeAll() {
        for entry in entries { entry.close() }
    }
}

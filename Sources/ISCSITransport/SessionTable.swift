import ISCSIProtocol
import NIOConcurrencyHelpers
import NIOCore

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
        /// Closes the session's connection (used for reinstatement and shutdown).
        public var close: @Sendable () -> Void
    }

    private struct State {
        var nextTSIH: UInt16 = 1
        var sessions: [UInt16: Entry] = [:]
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Registers a new session, closing any session it reinstates. Returns its TSIH.
    public func open(key: Key, peer: String, portal: String, close: @escaping @Sendable () -> Void) -> TSIH {
        let (tsih, replaced) = state.withLockedValue { state -> (TSIH, [Entry]) in
            let replaced = state.sessions.values.filter { $0.key == key }
            for old in replaced { state.sessions[old.tsih.rawValue] = nil }
            var candidate = state.nextTSIH
            while candidate == 0 || state.sessions[candidate] != nil { candidate &+= 1 }
            state.nextTSIH = candidate &+ 1
            state.sessions[candidate] = Entry(tsih: TSIH(candidate), key: key, peer: peer, portal: portal, close: close)
            return (TSIH(candidate), replaced)
        }
        for old in replaced { old.close() }
        return tsih
    }

    /// Whether a TSIH names a live session.
    public func contains(_ tsih: TSIH) -> Bool {
        state.withLockedValue { $0.sessions[tsih.rawValue] != nil }
    }

    /// Forgets a session whose connection ended.
    public func close(_ tsih: TSIH) {
        _ = state.withLockedValue { $0.sessions.removeValue(forKey: tsih.rawValue) }
    }

    /// A snapshot of every session, for `swiftport sessions`.
    public var entries: [Entry] {
        state.withLockedValue { Array($0.sessions.values) }.sorted { $0.tsih.rawValue < $1.tsih.rawValue }
    }

    /// Closes the sessions whose connection came in through a portal (portal disabled).
    public func closeAll(onPortal portal: String) {
        let matching = state.withLockedValue { state -> [Entry] in
            let matching = state.sessions.values.filter { $0.portal == portal }
            for entry in matching { state.sessions[entry.tsih.rawValue] = nil }
            return matching
        }
        for entry in matching { entry.close() }
    }

    /// Closes every session (daemon shutdown).
    public func closeAll() {
        let all = state.withLockedValue { state -> [Entry] in
            defer { state.sessions = [:] }
            return Array(state.sessions.values)
        }
        for entry in all { entry.close() }
    }
}

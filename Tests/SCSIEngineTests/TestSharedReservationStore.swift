import SCSIEngine
import Synchronization
import Testing

/// One shared record space in memory, seen by several device servers as the gateways
/// of a cluster see RADOS: versioned records (a change from a stale copy is a
/// conflict) and `publish` handing each change to every other gateway's handlers
/// before it returns.
final class TestSharedReservationSpace: Sendable {
    private struct State {
        var records: [String: ReservationRecord] = [:]
        var lastVersion: UInt64 = 0
        var handlers: [Int: [@Sendable (ReservationChange) async -> Bool]] = [:]
        /// Run just before each of the next `interventions` saves: another gateway's
        /// change landing between a load and a save.
        var beforeSave: (@Sendable () -> Void)?
        var interventions = 0
        var published: [ReservationChange] = []
        /// The changes a gateway's handler could not apply (it would be fenced).
        var refused: [(gateway: Int, change: ReservationChange)] = []
    }

    private let state = Mutex(State())

    /// The store as gateway `gateway` sees it.
    func gateway(_ gateway: Int) -> Gateway { Gateway(space: self, gateway: gateway) }

    var published: [ReservationChange] { state.withLock { $0.published } }

    /// The gateways that did not acknowledge a change, in order.
    var refusingGateways: [Int] { state.withLock { $0.refused.map(\.gateway) } }

    func record(_ name: String) -> ReservationRecord? { state.withLock { $0.records[name] } }

    /// Replaces record `name` behind every gateway's back (no notification).
    func overwrite(_ name: String, text: String) {
        state.withLock { state in
            state.lastVersion += 1
            state.records[name] = ReservationRecord(text: text, version: ReservationRecord.Version(rawValue: state.lastVersion))
        }
    }

    /// Gateway `gateway` hears no more changes (it was fenced, or died).
    func silence(gateway: Int) { state.withLock { _ = $0.handlers.removeValue(forKey: gateway) } }

    func beforeSaves(_ count: Int = 1, _ body: @escaping @Sendable () -> Void) {
        state.withLock { state in
            state.beforeSave = body
            state.interventions = count
        }
    }

    struct Gateway: SharedReservationStore {
        let space: TestSharedReservationSpace
        let gateway: Int

        func load(_ name: String) -> ReservationRecord? {
            space.record(name)
        }

        func save(_ text: String, as name: String, replacing version: ReservationRecord.Version?) throws -> ReservationRecord.Version {
            let intervention = space.state.withLock { state in
                guard state.interventions > 0 else { return nil as (@Sendable () -> Void)? }
                state.interventions -= 1
                return state.beforeSave
            }
            intervention?()
            return try space.state.withLock { state in
                guard state.records[name]?.version == version else {
                    throw SCSIEngineError(.reservationStoreConflict, "\(name) is not at version \(version.map(String.init(describing:)) ?? "none")")
                }
                state.lastVersion += 1
                let saved = ReservationRecord.Version(rawValue: state.lastVersion)
                state.records[name] = ReservationRecord(text: text, version: saved)
                return saved
            }
        }

        func remove(_ name: String, replacing version: ReservationRecord.Version?) throws {
            Issue.record("a shared store's record is never removed")
        }

        func publish(_ change: ReservationChange) async {
            let others = space.state.withLock { state in
                state.published.append(change)
                return state.handlers.filter { $0.key != gateway }.flatMap { entry in entry.value.map { (entry.key, $0) } }
            }
            // Through the text, as a notification carries it.
            guard let received = ReservationChange(serialized: change.serialized) else {
                Issue.record("the change does not survive its own text")
                return
            }
            for (other, handler) in others where await handler(received) == false {
                space.state.withLock { $0.refused.append((other, received)) }
            }
        }

        func onChange(_ handler: @escaping @Sendable (ReservationChange) async -> Bool) {
            space.state.withLock { $0.handlers[gateway, default: []].append(handler) }
        }
    }
}

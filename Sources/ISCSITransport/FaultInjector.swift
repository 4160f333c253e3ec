import NIOConcurrencyHelpers
import NIOCore
import SCSIProtocol
import Synchronization

/// Faults an operator injects on a portal to test initiators' multipath handling
/// (`swiftport fault ...`). Each stays until cleared.
public struct PortalFaults: Sendable, Hashable, Codable {
    /// Delay added before each SCSI response on this portal, in milliseconds.
    public var latencyMilliseconds: Int?
    /// Drop every Nth new connection right after accept (N >= 1).
    public var dropEveryNthConnection: Int?
    /// Fail every SCSI command with CHECK CONDITION and this sense key/ASC/ASCQ.
    public var failWithSense: SenseCode?

    public init(latencyMilliseconds: Int? = nil, dropEveryNthConnection: Int? = nil, failWithSense: SenseCode? = nil) {
        self.latencyMilliseconds = latencyMilliseconds
        self.dropEveryNthConnection = dropEveryNthConnection
        self.failWithSense = failWithSense
    }

    /// True when no fault is set.
    public var isEmpty: Bool { latencyMilliseconds == nil && dropEveryNthConnection == nil && failWithSense == nil }
}

extension SenseCode {
    /// The fixed format sense data of an injected CHECK CONDITION (SPC-4 §4.5.3).
    var fixedFormatSense: [UInt8] { ReportedSense(code: self).fixedFormat }
}

/// The faults in force, per portal; shared by every connection.
public final class FaultInjector: Sendable {
    private struct State {
        var faults: [Portal: PortalFaults] = [:]
        var acceptedConnections: [Portal: Int] = [:]
    }
    private let state = NIOLockedValueBox(State())
    /// Whether any portal has a latency or failure fault: the per-command check, one
    /// atomic load, so the lock is taken per command only while faults are set.
    private let commandFaultsSet = Atomic<Bool>(false)

    public init() {}

    /// Sets (or, with an empty value, clears) the faults of a portal.
    public func set(_ faults: PortalFaults, on portal: Portal) {
        state.withLockedValue { state in
            state.faults[portal] = faults.isEmpty ? nil : faults
            state.acceptedConnections[portal] = 0
            let set = state.faults.values.contains { $0.latencyMilliseconds != nil || $0.failWithSense != nil }
            commandFaultsSet.store(set, ordering: .releasing)
        }
    }

    /// The faults in force on a portal.
    public func faults(on portal: Portal) -> PortalFaults {
        state.withLockedValue { $0.faults[portal] ?? PortalFaults() }
    }

    /// The latency and failure faults that apply to a command on `portal`, nil when
    /// there are none (the common case, without taking the lock).
    func commandFaults(on portal: Portal) -> PortalFaults? {
        guard commandFaultsSet.load(ordering: .acquiring) else { return nil }
        return state.withLockedValue { $0.faults[portal] }
    }

    /// Every portal with a fault set.
    public var all: [Portal: PortalFaults] { state.withLockedValue { $0.faults } }

    /// Counts a new connection and says whether to drop it.
    func shouldDropNewConnection(on portal: Portal) -> Bool {
        state.withLockedValue { state in
            guard let every = state.faults[portal]?.dropEveryNthConnection, every > 0 else { return false }
            state.acceptedConnections[portal, default: 0] += 1
            return state.acceptedConnections[portal]! % every == 0
        }
    }
}

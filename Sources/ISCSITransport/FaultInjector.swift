import NIOConcurrencyHelpers
import SCSIEngine
import SCSIProtocol

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

/// The faults in force, per portal; shared by every connection. A connection in Full
/// Feature Phase observes its portal's faults and sends its commands through a
/// ``FaultInjectingDeviceServer`` while any are set, so a command on a portal without
/// faults never looks here.
public final class FaultInjector: Sendable {
    /// Told of every change of one portal's faults, with the faults now in force.
    typealias Observer = @Sendable (PortalFaults) -> Void

    /// One observer of one portal, for ``endObservation(_:)``.
    struct Observation: Sendable, Hashable {
        let portal: Portal
        let id: UInt64
    }

    private struct State {
        var faults: [Portal: PortalFaults] = [:]
        var acceptedConnections: [Portal: Int] = [:]
        var observers: [Portal: [UInt64: Observer]] = [:]
        var nextObserverID: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Sets (or, with an empty value, clears) the faults of a portal, and tells the
    /// portal's observers. They are told under the lock, so two changes reach every
    /// observer in the order they were made (an observer only hands the news on).
    public func set(_ faults: PortalFaults, on portal: Portal) {
        state.withLockedValue { state in
            state.faults[portal] = faults.isEmpty ? nil : faults
            state.acceptedConnections[portal] = 0
            for observer in (state.observers[portal] ?? [:]).values { observer(faults) }
        }
    }

    /// The faults in force on a portal.
    public func faults(on portal: Portal) -> PortalFaults {
        state.withLockedValue { $0.faults[portal] ?? PortalFaults() }
    }

    /// Every portal with a fault set.
    public var all: [Portal: PortalFaults] { state.withLockedValue { $0.faults } }

    /// Calls `observer` at every change of `portal`'s faults from now on; returns the
    /// faults in force now (read in the same step, so no change is missed).
    func observe(_ portal: Portal, _ observer: @escaping Observer) -> (Observation, PortalFaults) {
        state.withLockedValue { state in
            let id = state.nextObserverID
            state.nextObserverID += 1
            state.observers[portal, default: [:]][id] = observer
            return (Observation(portal: portal, id: id), state.faults[portal] ?? PortalFaults())
        }
    }

    /// Ends an observation (doing it twice is harmless).
    func endObservation(_ observation: Observation) {
        state.withLockedValue { state in
            state.observers[observation.portal]?[observation.id] = nil
            if state.observers[observation.portal]?.isEmpty == true { state.observers[observation.portal] = nil }
        }
    }

    /// How many observers `portal` has (for tests).
    func observerCount(on portal: Portal) -> Int {
        state.withLockedValue { $0.observers[portal]?.count ?? 0 }
    }

    /// Counts a new connection and says whether to drop it.
    func shouldDropNewConnection(on portal: Portal) -> Bool {
        state.withLockedValue { state in
            guard let every = state.faults[portal]?.dropEveryNthConnection, every > 0 else { return false }
            state.acceptedConnections[portal, default: 0] += 1
            return state.acceptedConnections[portal]! % every == 0
        }
    }
}

/// The device server as a connection on a portal with latency or failure faults sees
/// it (`swiftport fault set`): every command fails with the injected sense, or is
/// answered after the injected delay. Task management and nexus events pass through.
final class FaultInjectingDeviceServer: SCSIDeviceServer {
    let wrapped: any SCSIDeviceServer
    private let latency: Duration?
    private let failure: SenseCode?

    /// nil when `faults` has nothing that affects commands (no decorator needed).
    init?(wrapping device: any SCSIDeviceServer, faults: PortalFaults) {
        guard faults.latencyMilliseconds != nil || faults.failWithSense != nil else { return nil }
        wrapped = device
        latency = faults.latencyMilliseconds.map { .milliseconds($0) }
        failure = faults.failWithSense
    }

    func execute(_ command: SCSICommand) async -> SCSICommandResult {
        let result: SCSICommandResult
        if let failure {
            result = SCSICommandResult(status: .checkCondition, sense: failure.fixedFormatSense)
        } else {
            result = await wrapped.execute(command)
        }
        // An aborted command (its task cancelled) is not held for the rest of the delay.
        if let latency { try? await Task.sleep(for: latency) }
        return result
    }

    func taskManagement(_ function: TaskManagementFunction, lun: UInt64, nexus: ITNexus) async -> TaskManagementOutcome {
        await wrapped.taskManagement(function, lun: lun, nexus: nexus)
    }

    func nexusLogin(_ nexus: ITNexus) { wrapped.nexusLogin(nexus) }
    func nexusLogout(_ nexus: ITNexus) { wrapped.nexusLogout(nexus) }
}

import NIOConcurrencyHelpers
import NIOCore

/// Faults an operator injects on a portal to test initiators' multipath handling
/// (`swiftport fault ...`). Each stays until cleared.
public struct PortalFaults: Sendable, Hashable, Codable {
    /// Delay added before each SCSI response on this portal, in milliseconds.
    public var latencyMilliseconds: Int?
    /// Drop every Nth new connection right after accept (N >= 1).
    public var dropEveryNthConnection: Int?
    /// Fail every SCSI command with CHECK CONDITION and this sense key/ASC/ASCQ.
    public var failWithSense: SenseTriple?

    public init(latencyMilliseconds: Int? = nil, dropEveryNthConnection: Int? = nil, failWithSense: SenseTriple? = nil) {
        self.latencyMilliseconds = latencyMilliseconds
        self.dropEveryNthConnection = dropEveryNthConnection
        self.failWithSense = failWithSense
    }

    /// True when no fault is set.
    public var isEmpty: Bool { latencyMilliseconds == nil && dropEveryNthConnection == nil && failWithSense == nil }

    /// Sense key, additional sense code and qualifier (SPC-4 §4.5.6).
    public struct SenseTriple: Sendable, Hashable, Codable, CustomStringConvertible {
        public var key: UInt8
        public var code: UInt8
        public var qualifier: UInt8
        public init(key: UInt8, code: UInt8, qualifier: UInt8) {
            self.key = key
            self.code = code
            self.qualifier = qualifier
        }

        /// Parses "KEY/ASC/ASCQ" in hex, e.g. "02/04/0B" (NOT READY, TARGET PORT IN STANDBY STATE).
        public init?(parsing text: String) {
            let parts = text.split(separator: "/").compactMap { UInt8($0, radix: 16) }
            guard parts.count == 3, parts[0] <= 0x0F else { return nil }
            self.init(key: parts[0], code: parts[1], qualifier: parts[2])
        }

        /// Fixed-format current sense data (SPC-4 §4.5.3).
        public var fixedFormatSense: [UInt8] {
            var sense = [UInt8](repeating: 0, count: 18)
            sense[0] = 0x70
            sense[2] = key
            sense[7] = 10
            sense[12] = code
            sense[13] = qualifier
            return sense
        }

        public var description: String {
            [key, code, qualifier].map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: "/")
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// The faults in force, per portal; shared by every connection.
public final class FaultInjector: Sendable {
    private struct State {
        var faults: [Portal: PortalFaults] = [:]
        var acceptedConnections: [Portal: Int] = [:]
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Sets (or, with an empty value, clears) the faults of a portal.
    public func set(_ faults: PortalFaults, on portal: Portal) {
        state.withLockedValue { state in
            state.faults[portal] = faults.isEmpty ? nil : faults
            state.acceptedConnections[portal] = 0
        }
    }

    /// The faults in force on a portal.
    public func faults(on portal: Portal) -> PortalFaults {
        state.withLockedValue { $0.faults[portal] ?? PortalFaults() }
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

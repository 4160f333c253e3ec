/// ASYMMETRIC ACCESS STATE of a target port group (SPC-4 §5.15.2.4, table 156 of
/// REPORT TARGET PORT GROUPS).
public enum ALUAState: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Full performance access (§5.15.2.4.2).
    case activeOptimized = 0x0
    /// Every command works, maybe slower, often through the other controller (§5.15.2.4.3).
    case activeNonOptimized = 0x1
    /// Only management commands; media access fails with 02/04/0B (§5.15.2.4.4).
    case standby = 0x2
    /// Only a few commands; media access fails with 02/04/0C (§5.15.2.4.5).
    case unavailable = 0x3
    /// Access depends on the LBA (§5.15.2.4.6); treated as active.
    case logicalBlockDependent = 0x4
    /// The port is offline (§5.15.2.4.7).
    case offline = 0xE
    /// Changing state; commands fail with 02/04/0A until it settles (§5.15.2.5).
    case transitioning = 0xF

    /// Whether media-access commands (READ, WRITE) are served through this port.
    public var servesIO: Bool {
        switch self {
        case .activeOptimized, .activeNonOptimized, .logicalBlockDependent: true
        case .standby, .unavailable, .offline, .transitioning: false
        }
    }

    /// The name `sg_rtpg` and `multipath -ll` print.
    public var description: String {
        switch self {
        case .activeOptimized: "active/optimized"
        case .activeNonOptimized: "active/non-optimized"
        case .standby: "standby"
        case .unavailable: "unavailable"
        case .logicalBlockDependent: "lba-dependent"
        case .offline: "offline"
        case .transitioning: "transitioning"
        }
    }
}

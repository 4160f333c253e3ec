/// ASYMMETRIC ACCESS STATE of a target port group for a logical unit (SPC-4 §5.15.2.4,
/// §5.15.2.5; the 4-bit code of REPORT TARGET PORT GROUPS, SPC-4 §6.27 table 171, and
/// of SET TARGET PORT GROUPS, SPC-4 §6.39 table 219).
///
/// Every state the standard defines: an initiator (the DSM) meets all of them on other
/// targets. This device server implements a subset (`SCSITargetDevice.implementedAccessStates`).
public enum AsymmetricAccessState: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Every command, full performance (§5.15.2.4.2).
    case activeOptimized = 0x0
    /// Every command, maybe slower (§5.15.2.4.3).
    case activeNonOptimized = 0x1
    /// Management commands only; others NOT READY / 04h/0Bh (§5.15.2.4.4).
    case standby = 0x2
    /// Fewer still; others NOT READY / 04h/0Ch (§5.15.2.4.5).
    case unavailable = 0x3
    /// Access depends on the LBA (§5.15.2.4.6).
    case logicalBlockDependent = 0x4
    /// The port accepts no commands at all (§5.15.2.4.7).
    case offline = 0xE
    /// Between states; most commands NOT READY / 04h/0Ah (§5.15.2.5).
    case transitioning = 0xF

    /// The operator's word for the state: in configuration files, on the admin socket
    /// and the `swiftport alua` command line.
    public var name: String {
        switch self {
        case .activeOptimized: "active-optimized"
        case .activeNonOptimized: "active-non-optimized"
        case .standby: "standby"
        case .unavailable: "unavailable"
        case .logicalBlockDependent: "logical-block-dependent"
        case .offline: "offline"
        case .transitioning: "transitioning"
        }
    }

    /// The state an operator's word names, or nil.
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = state
    }

    /// Whether SET TARGET PORT GROUPS may request the state (SPC-4 §6.39 table 219):
    /// transitioning is entered by the device server only, and logical block dependent
    /// follows from the LBA, not from a request.
    public var isRequestable: Bool { self != .transitioning && self != .logicalBlockDependent }

    /// This state's bit in byte 1 of a target port group descriptor (SPC-4 §6.27 table
    /// 170): T_SUP (bit 7), O_SUP (6), LBD_SUP (4), U_SUP, S_SUP, AN_SUP, AO_SUP (3..0).
    public var supportBit: UInt8 {
        switch self {
        case .transitioning: 0x80
        case .offline: 0x40
        default: 1 << rawValue
        }
    }

    /// The name `sg_rtpg` and `multipath -ll` print: `active/optimized`, `lba-dependent`.
    public var description: String {
        switch self {
        case .activeOptimized: "active/optimized"
        case .activeNonOptimized: "active/non-optimized"
        case .logicalBlockDependent: "lba-dependent"
        default: name
        }
    }
}

/// ASYMMETRIC ACCESS STATE of a target port group for a logical unit (SPC-4 §5.15.2.4,
/// §5.15.2.5; the 4-bit code of REPORT TARGET PORT GROUPS, SPC-4 §6.27 table 171, and
/// of SET TARGET PORT GROUPS, SPC-4 §6.39 table 219).
///
/// The cases are the states this device server implements; offline and logical block
/// dependent are not offered.
public enum AsymmetricAccessState: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Every command, full performance (§5.15.2.4.2).
    case activeOptimized = 0x0
    /// Every command, maybe slower (§5.15.2.4.3).
    case activeNonOptimized = 0x1
    /// Management commands only; others NOT READY / 04h/0Bh (§5.15.2.4.4).
    case standby = 0x2
    /// Fewer still; others NOT READY / 04h/0Ch (§5.15.2.4.5).
    case unavailable = 0x3
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
        case .transitioning: "transitioning"
        }
    }

    /// The state an operator's word names, or nil.
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = state
    }

    /// Whether SET TARGET PORT GROUPS may request the state: transitioning is entered
    /// by the device server only (SPC-4 §6.39).
    public var isRequestable: Bool { self != .transitioning }

    /// This state's bit in byte 1 of a target port group descriptor (SPC-4 §6.27 table
    /// 170): T_SUP (bit 7), U_SUP, S_SUP, AN_SUP, AO_SUP (bits 3..0).
    public var supportBit: UInt8 { self == .transitioning ? 0x80 : 1 << rawValue }

    public var description: String { name }
}

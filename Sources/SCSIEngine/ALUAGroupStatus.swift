import SCSIProtocol

/// The asymmetric access state of one logical unit through one target port group, as
/// REPORT TARGET PORT GROUPS reports it (SPC-4 §6.27) and the admin socket shows it.
public struct ALUAGroupStatus: Sendable, Hashable {
    /// STATUS CODE of a target port group descriptor (SPC-4 §6.27 table 172): what last
    /// changed the state.
    public enum LastChange: UInt8, Sendable, Hashable, CustomStringConvertible {
        /// Not changed since start (00h, no status available).
        case none = 0x00
        /// SET TARGET PORT GROUPS from an initiator (01h, explicit ALUA).
        case setTargetPortGroups = 0x01
        /// The device server itself (02h, implicit ALUA): on the operator's request, or
        /// an owner-mode unit's owner moving between gateways.
        case implicit = 0x02

        public var description: String {
            switch self {
            case .none: "configuration"
            case .setTargetPortGroups: "SET TARGET PORT GROUPS"
            case .implicit: "the device server (operator or owner change)"
            }
        }
    }

    public var lun: UInt16
    /// TARGET PORT GROUP.
    public var targetPortGroup: UInt16
    /// The relative target port identifiers of the group's ports.
    public var relativeTargetPortIdentifiers: [UInt16]
    public var state: AsymmetricAccessState
    /// PREF: a preferred group for this logical unit.
    public var preferred: Bool
    public var lastChange: LastChange

    public init(
        lun: UInt16, targetPortGroup: UInt16, relativeTargetPortIdentifiers: [UInt16], state: AsymmetricAccessState,
        preferred: Bool, lastChange: LastChange
    ) {
        self.lun = lun
        self.targetPortGroup = targetPortGroup
        self.relativeTargetPortIdentifiers = relativeTargetPortIdentifiers
        self.state = state
        self.preferred = preferred
        self.lastChange = lastChange
    }
}

import SCSIProtocol

/// A target portal group (RFC 7143 §3.4.1): portals whose connections may belong to one
/// session, identified by the TargetPortalGroupTag sent at login (RFC 7143 §13.9).
///
/// Multipath setups give each path its own group so that ALUA can report per-group
/// states: each group is also an ALUA target port group (SPC-4 §5.15) with that tag.
public struct PortalGroupConfiguration: Sendable, Equatable {
    /// Tags run 1...65535 here; 0 is avoided because some initiators treat it as "unset".
    public static let tagRange: ClosedRange<UInt16> = 1...65535

    /// TargetPortalGroupTag.
    public var tag: UInt16
    /// Listening addresses of the group.
    public var portals: [PortalAddress]
    /// The asymmetric access state of every LUN through this group at start
    /// (`alua_state`); transitioning cannot be configured.
    public var aluaState: AsymmetricAccessState
    /// PREF of REPORT TARGET PORT GROUPS at start (`preferred`).
    public var preferred: Bool

    public init(
        tag: UInt16, portals: [PortalAddress], aluaState: AsymmetricAccessState = .activeOptimized, preferred: Bool = false
    ) {
        self.tag = tag
        self.portals = portals
        self.aluaState = aluaState
        self.preferred = preferred
    }
}

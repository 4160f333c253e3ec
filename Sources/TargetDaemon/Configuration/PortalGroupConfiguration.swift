/// A target portal group (RFC 7143 §3.4.1): portals whose connections may belong to one
/// session, identified by the TargetPortalGroupTag sent at login (RFC 7143 §13.9).
///
/// Multipath setups give each path its own group so that ALUA can report per-group states.
public struct PortalGroupConfiguration: Sendable, Equatable {
    /// Tags run 1...65535 here; 0 is avoided because some initiators treat it as "unset".
    public static let tagRange: ClosedRange<UInt16> = 1...65535

    /// TargetPortalGroupTag.
    public var tag: UInt16
    /// Listening addresses of the group.
    public var portals: [PortalAddress]

    public init(tag: UInt16, portals: [PortalAddress]) {
        self.tag = tag
        self.portals = portals
    }
}

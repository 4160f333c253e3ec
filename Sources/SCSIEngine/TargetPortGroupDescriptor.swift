import SCSIProtocol

/// One target port group of the target device (SPC-4 §5.15.2.1): its TARGET PORT
/// GROUP number, the relative target port identifiers of its ports, and the
/// asymmetric access state every logical unit starts in through it.
///
/// Swiftport makes each iSCSI portal group tag a target port group with one target
/// port whose relative identifier is the tag too (the nexus carries both).
public struct TargetPortGroupDescriptor: Sendable, Hashable {
    /// TARGET PORT GROUP (VPD 0x83 designator type 5, SPC-4 §7.8.6.7).
    public var tag: UInt16
    /// RELATIVE TARGET PORT IDENTIFIER of each port in the group (SPC-4 §7.8.6.6).
    public var relativeTargetPortIdentifiers: [UInt16]
    /// The state at start, for every logical unit.
    public var initialState: AsymmetricAccessState
    /// PREF at start: the group is a preferred path to every logical unit (SPC-4 §6.27).
    public var preferred: Bool

    public init(
        tag: UInt16, relativeTargetPortIdentifiers: [UInt16], initialState: AsymmetricAccessState = .activeOptimized,
        preferred: Bool = false
    ) {
        self.tag = tag
        self.relativeTargetPortIdentifiers = relativeTargetPortIdentifiers
        self.initialState = initialState
        self.preferred = preferred
    }
}

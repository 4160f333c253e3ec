/// One target port group descriptor of REPORT TARGET PORT GROUPS (SPC-4 §6.36): the
/// ALUA facts the DSM tracks per path.
public struct TargetPortGroupStatus: Hashable, Sendable {
    /// TARGET PORT GROUP (also VPD 0x83 designator type 5 on each path).
    public var groupID: UInt16
    /// ASYMMETRIC ACCESS STATE.
    public var state: ALUAState
    /// PREF: the array's hint that this group should carry I/O when it is active.
    public var preferred: Bool

    public init(groupID: UInt16, state: ALUAState, preferred: Bool = false) {
        self.groupID = groupID
        self.state = state
        self.preferred = preferred
    }
}

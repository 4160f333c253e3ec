import SCSIProtocol

/// A read-only picture of one path of a device, for `swiftport dsm scan` and metrics.
public struct PathStatus: Hashable, Sendable {
    public var pathID: PathID
    public var portal: String
    public var state: PathState
    /// The path's target port group, its latest known ALUA state and PREF bit.
    public var targetPortGroup: TargetPortGroupStatus?
    /// The ALUA state learned from sense when no target port group is known.
    public var aluaState: AsymmetricAccessState?
    /// Chosen by an administrator as the Fail Over Only primary.
    public var adminPreferred: Bool
    /// Weighted Paths weight (lower carries I/O); nil when unset.
    public var weight: UInt32?
    /// Healthy again but held back by the failback policy.
    public var failbackPending: Bool
    public var counters: PathCounters
}

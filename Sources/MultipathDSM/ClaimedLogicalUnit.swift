/// One logical unit the DSM claimed, with every path discovered to it.
public struct ClaimedLogicalUnit: Hashable, Sendable {
    public var identity: DeviceIdentity
    /// The (most specific) supported-device entry that claimed it.
    public var claimedBy: SupportedDeviceEntry
    /// Its paths in discovery order.
    public var paths: [PathIdentity]

    public init(identity: DeviceIdentity, claimedBy: SupportedDeviceEntry, paths: [PathIdentity]) {
        self.identity = identity
        self.claimedBy = claimedBy
        self.paths = paths
    }
}

/// A read-only picture of one multipath device: what `swiftport dsm scan` renders.
public struct DeviceStatus: Hashable, Sendable {
    /// Whether the device takes I/O right now.
    public enum Availability: String, Hashable, Sendable {
        /// Some path is eligible.
        case serving
        /// No path: I/O is held (no-path retry running).
        case queueing
        /// No path and no more waiting: I/O fails.
        case failing
    }

    public var identity: DeviceIdentity
    public var claimedBy: SupportedDeviceEntry
    public var vendor: String
    public var product: String
    public var revision: String
    public var configuration: MultipathConfiguration
    public var availability: Availability
    public var paths: [PathStatus]

    public init(
        identity: DeviceIdentity, claimedBy: SupportedDeviceEntry, vendor: String, product: String,
        revision: String, configuration: MultipathConfiguration, availability: Availability, paths: [PathStatus]
    ) {
        self.identity = identity
        self.claimedBy = claimedBy
        self.vendor = vendor
        self.product = product
        self.revision = revision
        self.configuration = configuration
        self.availability = availability
        self.paths = paths
    }
}

/// A discovered path the DSM leaves alone, and why (shown by `swiftport dsm scan`).
public struct UnclaimedPath: Hashable, Sendable {
    /// Why a path was not claimed.
    public enum Reason: Hashable, Sendable {
        /// No supported-device entry is a prefix of its vendor + product.
        case notInSupportedDeviceList
        /// Claimed by an entry, but it reports no logical-unit designator and no serial,
        /// so paths to the same LU could not be told apart from paths to another.
        case noIdentity
    }

    public var path: PathIdentity
    public var reason: Reason

    public init(path: PathIdentity, reason: Reason) {
        self.path = path
        self.reason = reason
    }
}

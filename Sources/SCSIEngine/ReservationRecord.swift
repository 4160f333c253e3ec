/// A logical unit's persistent reservations as a ``ReservationStore`` holds them: the
/// text of `PersistentReservations.serialized` and the version the store gave it.
public struct ReservationRecord: Sendable, Hashable {
    /// Which write of a record a reader saw. A store gives every save a new version;
    /// a save names the version it replaces, so a store shared by several writers
    /// (RADOS: an object version assert) refuses one made from a stale copy.
    public struct Version: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public var description: String { String(rawValue) }
    }

    /// The registrations and the reservation, as `PersistentReservations.serialized`.
    public var text: String
    public var version: Version

    public init(text: String, version: Version) {
        self.text = text
        self.version = version
    }
}

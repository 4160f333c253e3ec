/// Where persistent reservations with APTPL set live between runs (SPC-4 §5.12.5:
/// "persist through power loss"). The device server saves a logical unit's record
/// after every PERSISTENT RESERVE OUT that changes it, before completing the
/// command, and loads it when it starts.
///
/// Records are short text in the format of `PersistentReservations.serialized`,
/// named by a stable identifier of the logical unit (its NAA designator in hex), so a
/// LUN renumbered in the configuration keeps its reservations.
public protocol ReservationStore: Sendable {
    /// The record saved as `name`, or nil when there is none.
    func load(_ name: String) throws -> String?
    /// Replaces the record `name` with `record` atomically (a reader sees the old or
    /// the new record, never a mix), or removes it when `record` is nil. Returns only
    /// once the change is durable.
    func save(_ record: String?, as name: String) throws
}

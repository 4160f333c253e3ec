/// Where persistent reservations with APTPL set live between runs (SPC-4 §5.12.5:
/// "persist through power loss"). The device server loads a logical unit's record
/// when the unit is attached, and saves it after every PERSISTENT RESERVE OUT that
/// changes it, before the command completes (SPC-4 §6.16: GOOD only once the new
/// state would survive a power loss).
///
/// Every call is `async` and must not block its caller's thread: the device server
/// awaits it on an event loop. Records are short text in the format of
/// `PersistentReservations.serialized`, named by a stable identifier of the logical
/// unit (its NAA designator in hex), so a LUN renumbered in the configuration keeps
/// its reservations.
///
/// A store may be shared by several device servers (gateways of one cluster), so each
/// change names the ``ReservationRecord/Version`` it replaces and is a compare and
/// swap: a change made from a stale copy throws ``SCSIEngineError`` with the code
/// `reservationStoreConflict` and changes nothing. The device server never retries
/// on its own; it fails the command.
public protocol ReservationStore: Sendable {
    /// The record saved as `name`, or nil when there is none.
    func load(_ name: String) async throws -> ReservationRecord?
    /// Replaces the record `name`, if its version is still `version` (nil: if there is
    /// none), with `text`, atomically: a reader sees the old or the new record, never a
    /// mix. Returns the new version only once the change is durable.
    func save(_ text: String, as name: String, replacing version: ReservationRecord.Version?) async throws -> ReservationRecord.Version
    /// Removes the record `name`, if its version is still `version` (nil: there is
    /// none, and nothing is done). Returns only once the removal is durable.
    func remove(_ name: String, replacing version: ReservationRecord.Version?) async throws
}

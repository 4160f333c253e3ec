import SCSIProtocol

/// How a command fares while another I_T nexus holds a reservation: one column of the
/// command table, transcribed from SPC-4 §5.12.1 table 63 ("SPC commands that are
/// allowed in the presence of various reservations") and SBC-3 §4.17 table 13, and
/// from SPC-2 §5.5.1 for RESERVE(6)/(10) reservations.
enum ReservationAccess: Sendable {
    /// Allowed under every reservation, SPC-2 ones included: INQUIRY, REPORT LUNS,
    /// REQUEST SENSE (SPC-2 §5.5.1, SPC-4 table 63).
    case unrestricted
    /// Allowed under every persistent reservation; conflicts with an SPC-2
    /// reservation held by another nexus.
    case allowed
    /// Reads: allowed for non-holders under Write Exclusive types only.
    case read
    /// Writes and other state changes: conflicts for non-holders.
    case write
    /// RESERVE/RELEASE(6/10): checked by the command itself (SPC-2 §7.21, SPC-4
    /// §5.12.3 compatible reservation handling).
    case spc2Reservation
    /// PERSISTENT RESERVE IN/OUT: checked by the service action (SPC-4 table 64);
    /// conflicts with any SPC-2 reservation (SPC-4 §5.12.3).
    case persistentReservation
    /// The column depends on CDB fields (PREVENT ALLOW MEDIUM REMOVAL, START STOP UNIT).
    case depending(@Sendable (CommandDescriptorBlock) -> ReservationAccess)

    /// The column for this CDB.
    func resolved(for cdb: CommandDescriptorBlock) -> ReservationAccess {
        if case .depending(let decide) = self { return decide(cdb).resolved(for: cdb) }
        return self
    }

    /// Whether the command conflicts with an SPC-2 reservation held by another nexus.
    var conflictsWithOthersSPC2Reservation: Bool {
        switch self {
        case .unrestricted, .spc2Reservation: false
        default: true
        }
    }
}

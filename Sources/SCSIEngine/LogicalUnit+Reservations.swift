
/// The reservation check every command passes before its handler runs.
extension LogicalUnit.State {
    /// Whether a command with `access` from `nexus` must end in RESERVATION CONFLICT.
    ///
    /// An SPC-2 reservation (RESERVE(6)/(10)) admits only its holder, apart from the
    /// commands SPC-2 §5.5.1 always allows; PERSISTENT RESERVE IN and OUT conflict with
    /// it even from the holder (SPC-4 §5.12.3). Otherwise the persistent reservation
    /// decides (SPC-4 §5.12.1 table 63, SBC-3 table 13).
    func reservationConflict(for nexus: ITNexus, access: ReservationAccess) -> Bool {
        if let holder = spc2ReservationHolder {
            if case .persistentReservation = access { return true }
            return holder != nexus && access.conflictsWithOthersSPC2Reservation
        }
        return reservations.conflicts(nexus, access: access)
    }
}

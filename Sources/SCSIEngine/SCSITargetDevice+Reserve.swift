import SCSIProtocol

/// RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 §7.21, §7.22, §7.17, §7.18), with the
/// compatible reservation handling of SPC-4 §5.12.3 when persistent reservations exist.
extension SCSITargetDevice {
    /// Reserves the whole logical unit for the issuing I_T nexus. Third-party and
    /// extent reservations are not supported (INVALID FIELD IN CDB).
    func reserve(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        try checkSPC2ReservationCDB(context.cdb)
        let nexus = context.nexus
        if let shared = reservationStore as? any SharedReservationStore {
            let status = try await changeShared(unit, in: shared, by: nexus, "reserve") { state throws(SenseData) in
                if let compatible = Self.compatibleReservationHandling(state.reservations, nexus) { return compatible ? .unchanged : .conflict }
                if let holder = state.spc2Holder { return holder == nexus ? .unchanged : .conflict }
                state.spc2Holder = nexus
                return .changed()
            }
            return SCSICommandResult(status: status)
        }
        let reserved = unit.withState { state -> Bool in
            if let compatible = Self.compatibleReservationHandling(state.reservations, nexus) { return compatible }
            if let holder = state.spc2ReservationHolder, holder != nexus { return false }
            state.spc2ReservationHolder = nexus
            return true
        }
        return reserved ? .good : SCSICommandResult(status: .reservationConflict)
    }

    /// Releases the issuer's reservation; a RELEASE from a nexus that holds none
    /// completes with GOOD and changes nothing (SPC-2 §7.17).
    func release(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        try checkSPC2ReservationCDB(context.cdb)
        let nexus = context.nexus
        if let shared = reservationStore as? any SharedReservationStore {
            let status = try await changeShared(unit, in: shared, by: nexus, "release") { state throws(SenseData) in
                if let compatible = Self.compatibleReservationHandling(state.reservations, nexus) { return compatible ? .unchanged : .conflict }
                guard state.spc2Holder == nexus else { return .unchanged }
                state.spc2Holder = nil
                return .changed()
            }
            return SCSICommandResult(status: status)
        }
        let released = unit.withState { state -> Bool in
            if let compatible = Self.compatibleReservationHandling(state.reservations, nexus) { return compatible }
            if state.spc2ReservationHolder == nexus { state.spc2ReservationHolder = nil }
            return true
        }
        return released ? .good : SCSICommandResult(status: .reservationConflict)
    }

    /// SPC-4 §5.12.3: with a persistent reservation, RESERVE and RELEASE from its
    /// holder (or a registrant of a registrants-only / all-registrants reservation)
    /// complete with GOOD and change nothing; from anyone else, and while
    /// registrations exist, they conflict (SPC-2 §5.5.3). Nil: no persistent
    /// reservation state, process as SPC-2.
    private static func compatibleReservationHandling(_ reservations: PersistentReservations, _ nexus: ITNexus) -> Bool? {
        if let reservation = reservations.reservation {
            let registered = reservations.registration(of: nexus) != nil
            return reservations.isHolder(nexus) || (reservation.type.admitsRegistrants && registered)
        }
        return reservations.registrations.isEmpty ? nil : false
    }

    /// 3RDPTY (byte 1 bit 4) and, for the 6-byte forms, the obsolete extent bit
    /// (byte 1 bit 0) ask for what this device server does not implement.
    private func checkSPC2ReservationCDB(_ cdb: CommandDescriptorBlock) throws(SenseData) {
        if cdb.bit(4, ofByte: 1) {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 4))
        }
        if cdb.bit(0, ofByte: 1) {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 0))
        }
    }
}

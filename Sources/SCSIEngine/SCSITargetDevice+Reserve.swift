import SCSIProtocol

/// RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 §7.21, §7.22, §7.17, §7.18), with the
/// compatible reservation handling of SPC-4 §5.12.3 when persistent reservations exist.
extension SCSITargetDevice {
    /// Reserves the whole logical unit for the issuing I_T nexus. Third-party and
    /// extent reservations are not supported (INVALID FIELD IN CDB).
    func reserve(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        try checkSPC2ReservationCDB(context.cdb)
        let nexus = context.nexus
        if let shared = sharedReservationStore {
            let status = try await changeShared(unit, in: shared, by: nexus, "reserve") { state throws(SenseData) in
                Self.reserving(&state.spc2Holder, by: nexus, under: state.reservations).sharedOutcome
            }
            return SCSICommandResult(status: status)
        }
        let outcome = unit.withState { Self.reserving(&$0.spc2ReservationHolder, by: nexus, under: $0.reservations) }
        return outcome.granted ? .good : SCSICommandResult(status: .reservationConflict)
    }

    /// Releases the issuer's reservation; a RELEASE from a nexus that holds none
    /// completes with GOOD and changes nothing (SPC-2 §7.17).
    func release(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        try checkSPC2ReservationCDB(context.cdb)
        let nexus = context.nexus
        if let shared = sharedReservationStore {
            let status = try await changeShared(unit, in: shared, by: nexus, "release") { state throws(SenseData) in
                Self.releasing(&state.spc2Holder, by: nexus, under: state.reservations).sharedOutcome
            }
            return SCSICommandResult(status: status)
        }
        let outcome = unit.withState { Self.releasing(&$0.spc2ReservationHolder, by: nexus, under: $0.reservations) }
        return outcome.granted ? .good : SCSICommandResult(status: .reservationConflict)
    }

    /// What RESERVE or RELEASE did to the holder: `granted` GOOD (else RESERVATION
    /// CONFLICT), `changed` whether the holder is another now.
    struct SPC2Outcome {
        var granted: Bool
        var changed: Bool

        var sharedOutcome: SharedOutcome { !granted ? .conflict : changed ? .changed() : .unchanged }
    }

    /// RESERVE by `nexus` of a unit whose SPC-2 reservation is `holder`: one server's
    /// state or a gateway cluster's shared record, judged the same way.
    static func reserving(_ holder: inout ITNexus?, by nexus: ITNexus, under reservations: PersistentReservations) -> SPC2Outcome {
        if let compatible = compatibleReservationHandling(reservations, nexus) { return SPC2Outcome(granted: compatible, changed: false) }
        if let current = holder { return SPC2Outcome(granted: current == nexus, changed: false) }
        holder = nexus
        return SPC2Outcome(granted: true, changed: true)
    }

    /// RELEASE by `nexus`; a nexus that holds no reservation releases nothing, with GOOD.
    static func releasing(_ holder: inout ITNexus?, by nexus: ITNexus, under reservations: PersistentReservations) -> SPC2Outcome {
        if let compatible = compatibleReservationHandling(reservations, nexus) { return SPC2Outcome(granted: compatible, changed: false) }
        guard holder == nexus else { return SPC2Outcome(granted: true, changed: false) }
        holder = nil
        return SPC2Outcome(granted: true, changed: true)
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

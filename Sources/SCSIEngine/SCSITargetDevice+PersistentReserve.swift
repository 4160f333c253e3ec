import Logging
import NIOCore
import SCSIProtocol

/// PERSISTENT RESERVE IN (SPC-4 §6.15) and PERSISTENT RESERVE OUT (SPC-4 §6.16);
/// the model is ``PersistentReservations``.
extension SCSITargetDevice {
    /// Most registrations a logical unit keeps (INSUFFICIENT REGISTRATION RESOURCES past it).
    static let maximumRegistrations = 256

    func persistentReserveIn(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        guard let action = PersistentReserveInServiceAction(rawValue: context.cdb.serviceAction) else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 4))
        }
        let state = unit.withState { $0.reservations }
        let data: [UInt8]
        switch action {
        case .readKeys:
            // SPC-4 §6.15.2: PRGENERATION, ADDITIONAL LENGTH, one key per registration.
            let keys = state.registrations.flatMap(\.key.bigEndianBytes)
            data = state.generation.bigEndianBytes + UInt32(keys.count).bigEndianBytes + keys
        case .readReservation:
            // SPC-4 §6.15.3: the key is zero for all-registrants reservations.
            guard let reservation = state.reservation else {
                data = state.generation.bigEndianBytes + [0, 0, 0, 0]
                break
            }
            let key = reservation.type.isAllRegistrants
                ? 0 : state.registrations.first { $0.registrant == reservation.holder }?.key ?? 0
            data = state.generation.bigEndianBytes + UInt32(16).bigEndianBytes + key.bigEndianBytes
                + [0, 0, 0, 0, 0, reservation.type.rawValue, 0, 0]
        case .reportCapabilities:
            data = reportCapabilities(state)
        case .readFullStatus:
            data = readFullStatus(state)
        }
        return .good(data, allocationLength: context.cdb.allocationLength)
    }

    /// REPORT CAPABILITIES (SPC-4 §6.15.4, table 202): CRH (compatible RESERVE /
    /// RELEASE handling, §5.12.3), SIP_C (SPEC_I_PT), ATP_C (ALL_TG_PT), PTPL_C when a
    /// store exists, TMV with ALLOW COMMANDS 001b (TEST UNIT READY passes Write
    /// Exclusive and Exclusive Access reservations), PTPL_A, all six types.
    private func reportCapabilities(_ state: PersistentReservations) -> [UInt8] {
        let capable: UInt8 = 0x10 | 0x08 | 0x04 | (reservationStore == nil ? 0 : 0x01)
        let active: UInt8 = 0x80 | 0x10 | (state.persistThroughPowerLoss ? 0x01 : 0)
        let mask = PersistentReservationType.allCases.reduce(UInt16(0)) { $0 | $1.typeMaskBit }
        return [0x00, 0x08, capable, active] + mask.bigEndianBytes + [0, 0]
    }

    /// READ FULL STATUS (SPC-4 §6.15.5, tables 204/205): one descriptor per
    /// registration with ALL_TG_PT, R_HOLDER, the reservation's type for holders, the
    /// relative target port and the initiator's TransportID.
    private func readFullStatus(_ state: PersistentReservations) -> [UInt8] {
        var descriptors: [UInt8] = []
        for registration in state.registrations {
            let holder = state.reservation.map { $0.type.isAllRegistrants || $0.holder == registration.registrant } ?? false
            let transportIdentifier = registration.registrant.initiator.bytes
            descriptors += registration.key.bigEndianBytes + [0, 0, 0, 0]
            descriptors += [
                (registration.registrant.relativeTargetPort == nil ? 0x02 : 0) | (holder ? 0x01 : 0),
                holder ? state.reservation?.type.rawValue ?? 0 : 0,
                0, 0, 0, 0,
            ]
            descriptors += (registration.registrant.relativeTargetPort ?? 0).bigEndianBytes
            descriptors += UInt32(transportIdentifier.count).bigEndianBytes + transportIdentifier
        }
        return state.generation.bigEndianBytes + UInt32(descriptors.count).bigEndianBytes + descriptors
    }

    /// Decodes the parameter list, performs the service action on the logical unit's
    /// state under its lock, establishes the unit attentions it calls for, and saves
    /// the state when APTPL is (or was) in effect before completing.
    func persistentReserveOut(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        guard let action = PersistentReservations.ServiceAction(rawValue: cdb.serviceAction) else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 4))
        }
        let length = cdb.allocationLength
        let list = Array(try dataOut(context, byteCount: length).readableBytesView)
        let parameters = try PersistentReserveOutParameterList.parse(list, registerAndMove: action == .registerAndMove)
        let registers = action == .register || action == .registerAndIgnoreExistingKey || action == .registerAndMove
        if registers && parameters.activatePersistThroughPowerLoss && reservationStore == nil {
            // PTPL_C = 0: APTPL cannot be honoured (SPC-4 §6.16.4).
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: action == .registerAndMove ? 17 : 20, bit: 0))
        }
        let nexus = context.nexus
        if let shared = sharedReservationStore {
            // APTPL is implied (SPC-4 §5.12.5): restored from its text, as every gateway
            // installs it, the state has it set.
            var performed: [PersistentReservations.Notice] = []
            let status = try await changeShared(unit, in: shared, by: nexus, "\(action)") { state throws(SenseData) in
                let outcome = try state.reservations.perform(
                    action, scopeAndType: cdb[2], parameters: parameters, from: nexus, maximumRegistrations: Self.maximumRegistrations)
                guard case .completed(let notices, let changed) = outcome else { return .conflict }
                performed = notices
                return changed ? .changed(notices: notices, aborting: action == .preemptAndAbort) : .unchanged
            }
            if status == .good && action == .preemptAndAbort { await abortPreemptedTasks(in: unit, performed) }
            return SCSICommandResult(status: status, dataOutLengthUsed: length)
        }
        let (outcome, before, after) = try unit.withState { state -> Result<(PersistentReservations.Outcome, PersistentReservations, PersistentReservations), SenseData> in
            let before = state.reservations
            let outcome: PersistentReservations.Outcome
            do throws(SenseData) {
                outcome = try state.reservations.perform(
                    action, scopeAndType: cdb[2], parameters: parameters, from: nexus,
                    maximumRegistrations: Self.maximumRegistrations)
            } catch {
                return .failure(error)
            }
            if case .completed(let notices, _) = outcome {
                for notice in notices {
                    state.unitAttentions.establish(notice.condition) { candidate in
                        candidate != nexus && notice.registrants.contains { $0.matches(candidate) }
                    }
                }
            }
            return .success((outcome, before, state.reservations))
        }.get()
        guard case .completed(let notices, let changed) = outcome else {
            return SCSICommandResult(status: .reservationConflict, dataOutLengthUsed: length)
        }
        if changed && (before.persistThroughPowerLoss || after.persistThroughPowerLoss) {
            try await save(after, of: unit)
        }
        if action == .preemptAndAbort { await abortPreemptedTasks(in: unit, notices) }
        logger.info(
            "persistent reservation",
            metadata: ["lun": "\(unit.number)", "action": "\(action)", "nexus": "\(nexus)", "generation": "\(after.generation)"])
        return SCSICommandResult(status: .good, dataOutLengthUsed: length)
    }

    /// Writes the state to the store, or removes the record once APTPL is off, and
    /// returns once that is durable. The caller holds the unit's gate exclusively while
    /// it awaits, so no other command sees the unit between the change and the save.
    private func save(_ reservations: PersistentReservations, of unit: LogicalUnit) async throws(SenseData) {
        guard let reservationStore else { return }
        let name = unit.reservationRecordName
        let version = unit.withState { $0.reservationRecordVersion }
        do {
            let saved: ReservationRecord.Version?
            if reservations.persistThroughPowerLoss {
                saved = try await reservationStore.save(reservations.serialized, as: name, replacing: version)
            } else {
                try await reservationStore.remove(name, replacing: version)
                saved = nil
            }
            unit.withState { $0.reservationRecordVersion = saved }
        } catch {
            logger.error("cannot save persistent reservations", metadata: ["lun": "\(unit.number)", "error": "\(error)"])
            throw SenseData(.internalTargetFailure)
        }
    }

    /// The logical unit `descriptor` describes, with the reservations `store` holds for
    /// it (SPC-4 §5.12.5), or none. Loaded when the unit is attached: at start and
    /// when it is added live.
    static func restoredUnit(
        _ descriptor: LogicalUnitDescriptor, from store: (any ReservationStore)?,
        targetPortGroups: [TargetPortGroupDescriptor], logger: Logger
    ) async -> LogicalUnit {
        let record: ReservationRecord?
        do {
            // A shared record is installed whole (owner, SPC-2 holder and all) by
            // catchUpSharedReservations, once this device server hears of its changes.
            record = store is any SharedReservationStore ? nil : try await store?.load(LogicalUnit.reservationRecordName(of: descriptor))
        } catch {
            logger.error("cannot load persistent reservations", metadata: ["lun": "\(descriptor.lun)", "error": "\(error)"])
            record = nil
        }
        var reservations = PersistentReservations()
        if let record {
            if let restored = PersistentReservations(serialized: record.text) {
                reservations = restored
                logger.info(
                    "restored persistent reservations",
                    metadata: ["lun": "\(descriptor.lun)", "registrations": "\(restored.registrations.count)"])
            } else {
                // Its version is kept, so the next save replaces it.
                logger.error("ignoring unreadable persistent reservation record", metadata: ["lun": "\(descriptor.lun)"])
            }
        }
        return LogicalUnit(
            descriptor, reservations: reservations, reservationRecordVersion: record?.version, targetPortGroups: targetPortGroups)
    }
}

import SCSIProtocol

/// One row of the device server's command table (STYLE.md §5): which operation code
/// (and service action) is implemented, by which handler, whether it needs an existing
/// logical unit, and how it fares under reservations and asymmetric access states.
struct SupportedCommand: Sendable {
    /// How the dispatcher calls a handler. Handlers run where the command's task runs
    /// (`nonisolated(nonsending)`, spelled out so that the thunks made from the method
    /// references below can never be `@concurrent`: a hop to the generic executor and
    /// back per command).
    enum Handler: Sendable {
        /// Served for any LUN, existing or not, and exempt from unit attention
        /// reporting: INQUIRY, REPORT LUNS, REQUEST SENSE (SAM-5 §5.14).
        case anyLogicalUnit(AnyUnitHandler)
        /// Needs an existing logical unit; a pending unit attention is reported first.
        case logicalUnit(UnitHandler)

        typealias AnyUnitHandler = @Sendable (SCSITargetDevice) -> nonisolated(nonsending) (
            CommandContext, LogicalUnit?
        ) async throws(SenseData) -> SCSICommandResult
        typealias UnitHandler = @Sendable (SCSITargetDevice) -> nonisolated(nonsending) (
            CommandContext, LogicalUnit
        ) async throws(SenseData) -> SCSICommandResult
        /// Runs before the command waits for the unit's gate.
        typealias Preparation = @Sendable (SCSITargetDevice) -> nonisolated(nonsending) (CommandContext, LogicalUnit) async -> Void
    }

    let name: String
    let operationCode: SCSIOperationCode
    /// For MAINTENANCE IN / SERVICE ACTION IN style commands, the service action.
    let serviceAction: UInt8?
    let handler: Handler
    /// The command's column in the reservation tables (SPC-4 §5.12.1 table 63,
    /// SBC-3 §4.17 table 13).
    let reservationAccess: ReservationAccess
    /// Runs with nothing else on the logical unit: read-modify-write commands and
    /// PERSISTENT RESERVE OUT (see ``LogicalUnitGate``).
    let exclusive: Bool
    /// The command's column in the ALUA access lists (SPC-4 §5.15.2.4, §5.15.2.5).
    /// The clauses list what a standby, unavailable or transitioning port still
    /// serves; every command they do not list is ``ALUAAccess/active``, the default.
    let aluaAccess: ALUAAccess
    /// Writes the medium: through a gateway that does not hold the medium's exclusive
    /// lock, the command first moves the logical unit's ownership there
    /// (``SCSITargetDevice/becomeOwner(of:_:when:)``).
    let writesMedium: Bool
    /// What the command does before it waits for the unit's gate: PREEMPT AND ABORT
    /// aborts the tasks it will preempt, which may be inside the gate and would hold it
    /// up (``SCSITargetDevice/abortTasksToBePreempted(_:_:)``).
    let beforeGate: Handler.Preparation?

    /// The commands that write blocks (SBC-3 §5), those librbd refuses without the
    /// image's exclusive lock.
    private static let mediumWrites: Set<SCSIOperationCode> = [
        .write6, .write10, .write12, .write16, .writeAndVerify10, .writeAndVerify12, .writeAndVerify16,
        .writeSame10, .writeSame16, .unmap, .compareAndWrite, .orWrite16,
    ]

    init(
        name: String, operationCode: SCSIOperationCode, serviceAction: UInt8? = nil, handler: Handler,
        reservationAccess: ReservationAccess, exclusive: Bool = false, aluaAccess: ALUAAccess = .active,
        beforeGate: Handler.Preparation? = nil
    ) {
        self.name = name
        self.operationCode = operationCode
        self.serviceAction = serviceAction
        self.handler = handler
        self.reservationAccess = reservationAccess
        self.exclusive = exclusive
        self.aluaAccess = aluaAccess
        self.writesMedium = Self.mediumWrites.contains(operationCode)
        self.beforeGate = beforeGate
    }

    /// START STOP UNIT with START = 1 and POWER CONDITION 0h is allowed under every
    /// persistent reservation, any other form is a write (SBC-3 table 13).
    private static let startStopUnitAccess = ReservationAccess.depending { cdb in
        cdb[4] & 0xF1 == 0x01 ? .allowed : .write
    }
    /// PREVENT ALLOW MEDIUM REMOVAL with PREVENT 00b is allowed under every persistent
    /// reservation, otherwise it is a write (SBC-3 table 13).
    private static let preventAllowAccess = ReservationAccess.depending { cdb in
        cdb[4] & 0x03 == 0 ? .allowed : .write
    }

    /// The implemented commands (SPC-4 §6, SBC-3 §5), in operation code order.
    static let table: [SupportedCommand] = [
        .init(name: "TEST UNIT READY", operationCode: .testUnitReady,
              handler: .logicalUnit(SCSITargetDevice.testUnitReady), reservationAccess: .allowed),
        .init(name: "REQUEST SENSE", operationCode: .requestSense,
              handler: .anyLogicalUnit(SCSITargetDevice.requestSense), reservationAccess: .unrestricted,
              aluaAccess: .anyState),
        .init(name: "READ(6)", operationCode: .read6, handler: .logicalUnit(SCSITargetDevice.read), reservationAccess: .read),
        .init(name: "WRITE(6)", operationCode: .write6, handler: .logicalUnit(SCSITargetDevice.write), reservationAccess: .write),
        .init(name: "INQUIRY", operationCode: .inquiry,
              handler: .anyLogicalUnit(SCSITargetDevice.inquiry), reservationAccess: .unrestricted,
              aluaAccess: .anyState),
        .init(name: "MODE SELECT(6)", operationCode: .modeSelect6,
              handler: .logicalUnit(SCSITargetDevice.modeSelect), reservationAccess: .write, aluaAccess: .standby),
        .init(name: "RESERVE(6)", operationCode: .reserve6,
              handler: .logicalUnit(SCSITargetDevice.reserve), reservationAccess: .spc2Reservation),
        .init(name: "RELEASE(6)", operationCode: .release6,
              handler: .logicalUnit(SCSITargetDevice.release), reservationAccess: .spc2Reservation),
        .init(name: "MODE SENSE(6)", operationCode: .modeSense6,
              handler: .logicalUnit(SCSITargetDevice.modeSense), reservationAccess: .read, aluaAccess: .standby),
        .init(name: "START STOP UNIT", operationCode: .startStopUnit,
              handler: .logicalUnit(SCSITargetDevice.startStopUnit), reservationAccess: startStopUnitAccess),
        .init(name: "PREVENT ALLOW MEDIUM REMOVAL", operationCode: .preventAllowMediumRemoval,
              handler: .logicalUnit(SCSITargetDevice.preventAllowMediumRemoval), reservationAccess: preventAllowAccess),
        .init(name: "READ CAPACITY(10)", operationCode: .readCapacity10,
              handler: .logicalUnit(SCSITargetDevice.readCapacity10), reservationAccess: .allowed, aluaAccess: .standby),
        .init(name: "READ(10)", operationCode: .read10, handler: .logicalUnit(SCSITargetDevice.read), reservationAccess: .read),
        .init(name: "WRITE(10)", operationCode: .write10, handler: .logicalUnit(SCSITargetDevice.write), reservationAccess: .write),
        .init(name: "WRITE AND VERIFY(10)", operationCode: .writeAndVerify10,
              handler: .logicalUnit(SCSITargetDevice.writeAndVerify), reservationAccess: .write),
        .init(name: "VERIFY(10)", operationCode: .verify10,
              handler: .logicalUnit(SCSITargetDevice.verify), reservationAccess: .read),
        .init(name: "PRE-FETCH(10)", operationCode: .preFetch10,
              handler: .logicalUnit(SCSITargetDevice.preFetch), reservationAccess: .read),
        .init(name: "SYNCHRONIZE CACHE(10)", operationCode: .synchronizeCache10,
              handler: .logicalUnit(SCSITargetDevice.synchronizeCache), reservationAccess: .write),
        .init(name: "READ DEFECT DATA(10)", operationCode: .readDefectData10,
              handler: .logicalUnit(SCSITargetDevice.readDefectData), reservationAccess: .read),
        .init(name: "WRITE SAME(10)", operationCode: .writeSame10,
              handler: .logicalUnit(SCSITargetDevice.writeSame), reservationAccess: .write),
        .init(name: "UNMAP", operationCode: .unmap, handler: .logicalUnit(SCSITargetDevice.unmap), reservationAccess: .write),
        .init(name: "MODE SELECT(10)", operationCode: .modeSelect10,
              handler: .logicalUnit(SCSITargetDevice.modeSelect), reservationAccess: .write, aluaAccess: .standby),
        .init(name: "RESERVE(10)", operationCode: .reserve10,
              handler: .logicalUnit(SCSITargetDevice.reserve), reservationAccess: .spc2Reservation),
        .init(name: "RELEASE(10)", operationCode: .release10,
              handler: .logicalUnit(SCSITargetDevice.release), reservationAccess: .spc2Reservation),
        .init(name: "MODE SENSE(10)", operationCode: .modeSense10,
              handler: .logicalUnit(SCSITargetDevice.modeSense), reservationAccess: .read, aluaAccess: .standby),
    ] + persistentReserveRows + [
        .init(name: "EXTENDED COPY(LID1)", operationCode: .extendedCopy, serviceAction: 0x00,
              handler: .logicalUnit(SCSITargetDevice.extendedCopy), reservationAccess: .write),
        .init(name: "RECEIVE COPY RESULTS(COPY STATUS)", operationCode: .receiveCopyResults, serviceAction: 0x00,
              handler: .logicalUnit(SCSITargetDevice.receiveCopyResults), reservationAccess: .write),
        .init(name: "RECEIVE COPY RESULTS(OPERATING PARAMETERS)", operationCode: .receiveCopyResults, serviceAction: 0x03,
              handler: .logicalUnit(SCSITargetDevice.receiveCopyResults), reservationAccess: .write),
        .init(name: "READ(16)", operationCode: .read16, handler: .logicalUnit(SCSITargetDevice.read), reservationAccess: .read),
        .init(name: "COMPARE AND WRITE", operationCode: .compareAndWrite,
              handler: .logicalUnit(SCSITargetDevice.compareAndWrite), reservationAccess: .write, exclusive: true),
        .init(name: "WRITE(16)", operationCode: .write16, handler: .logicalUnit(SCSITargetDevice.write), reservationAccess: .write),
        .init(name: "ORWRITE(16)", operationCode: .orWrite16,
              handler: .logicalUnit(SCSITargetDevice.orWrite), reservationAccess: .write, exclusive: true),
        .init(name: "WRITE AND VERIFY(16)", operationCode: .writeAndVerify16,
              handler: .logicalUnit(SCSITargetDevice.writeAndVerify), reservationAccess: .write),
        .init(name: "VERIFY(16)", operationCode: .verify16,
              handler: .logicalUnit(SCSITargetDevice.verify), reservationAccess: .read),
        .init(name: "PRE-FETCH(16)", operationCode: .preFetch16,
              handler: .logicalUnit(SCSITargetDevice.preFetch), reservationAccess: .read),
        .init(name: "SYNCHRONIZE CACHE(16)", operationCode: .synchronizeCache16,
              handler: .logicalUnit(SCSITargetDevice.synchronizeCache), reservationAccess: .write),
        .init(name: "WRITE SAME(16)", operationCode: .writeSame16,
              handler: .logicalUnit(SCSITargetDevice.writeSame), reservationAccess: .write),
        .init(name: "READ CAPACITY(16)", operationCode: .serviceActionIn16, serviceAction: 0x10,
              handler: .logicalUnit(SCSITargetDevice.readCapacity16), reservationAccess: .allowed, aluaAccess: .standby),
        .init(name: "GET LBA STATUS", operationCode: .serviceActionIn16, serviceAction: 0x12,
              handler: .logicalUnit(SCSITargetDevice.getLBAStatus), reservationAccess: .read),
        .init(name: "REPORT LUNS", operationCode: .reportLUNs,
              handler: .anyLogicalUnit(SCSITargetDevice.reportLUNs), reservationAccess: .unrestricted,
              aluaAccess: .anyState),
        .init(name: "REPORT TARGET PORT GROUPS", operationCode: .maintenanceIn, serviceAction: 0x0A,
              handler: .logicalUnit(SCSITargetDevice.reportTargetPortGroups), reservationAccess: .allowed,
              aluaAccess: .anyState),
        .init(name: "REPORT SUPPORTED OPERATION CODES", operationCode: .maintenanceIn, serviceAction: 0x0C,
              handler: .logicalUnit(SCSITargetDevice.reportSupportedOperationCodes), reservationAccess: .read),
        .init(name: "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS", operationCode: .maintenanceIn, serviceAction: 0x0D,
              handler: .logicalUnit(SCSITargetDevice.reportSupportedTaskManagementFunctions), reservationAccess: .read),
        .init(name: "SET TARGET PORT GROUPS", operationCode: .maintenanceOut, serviceAction: 0x0A,
              handler: .logicalUnit(SCSITargetDevice.setTargetPortGroups), reservationAccess: .write,
              aluaAccess: .unavailable),
        .init(name: "READ(12)", operationCode: .read12, handler: .logicalUnit(SCSITargetDevice.read), reservationAccess: .read),
        .init(name: "WRITE(12)", operationCode: .write12, handler: .logicalUnit(SCSITargetDevice.write), reservationAccess: .write),
        .init(name: "WRITE AND VERIFY(12)", operationCode: .writeAndVerify12,
              handler: .logicalUnit(SCSITargetDevice.writeAndVerify), reservationAccess: .write),
        .init(name: "VERIFY(12)", operationCode: .verify12,
              handler: .logicalUnit(SCSITargetDevice.verify), reservationAccess: .read),
        .init(name: "READ DEFECT DATA(12)", operationCode: .readDefectData12,
              handler: .logicalUnit(SCSITargetDevice.readDefectData), reservationAccess: .read),
    ]

    /// PERSISTENT RESERVE IN (SPC-4 §6.15) and OUT (§6.16): one row per service action
    /// so that REPORT SUPPORTED OPERATION CODES lists each and an unknown one is
    /// INVALID FIELD IN CDB.
    private static let persistentReserveRows: [SupportedCommand] =
        PersistentReserveInServiceAction.allCases.map {
            .init(name: "PERSISTENT RESERVE IN(\($0.name))", operationCode: .persistentReserveIn, serviceAction: $0.rawValue,
                  handler: .logicalUnit(SCSITargetDevice.persistentReserveIn), reservationAccess: .persistentReservation,
                  aluaAccess: .standby)
        }
        + PersistentReservations.ServiceAction.allCases.map { action -> SupportedCommand in
            let preparation = action == .preemptAndAbort ? abortTasksToBePreempted : nil
            return .init(name: "PERSISTENT RESERVE OUT(\(action))", operationCode: .persistentReserveOut, serviceAction: action.rawValue,
                         handler: .logicalUnit(SCSITargetDevice.persistentReserveOut), reservationAccess: .persistentReservation,
                         exclusive: true, aluaAccess: .standby, beforeGate: preparation)
        }

    private static let abortTasksToBePreempted: Handler.Preparation = { device in device.abortTasksToBePreempted }

    /// The rows of each operation code, indexed by its value (an array, not a
    /// dictionary: no hashing on every command).
    private static let byOperationCode: [[SupportedCommand]] = {
        var rows = [[SupportedCommand]](repeating: [], count: 256)
        for row in table { rows[Int(row.operationCode.rawValue)].append(row) }
        return rows
    }()

    /// Finds the row for `cdb`: an unknown operation code is INVALID COMMAND OPERATION
    /// CODE; an unknown service action of a known one is INVALID FIELD IN CDB pointing
    /// at the SERVICE ACTION field (SPC-4 §4.2.5.1).
    static func lookup(_ cdb: CommandDescriptorBlock) throws(SenseData) -> SupportedCommand {
        let rows = byOperationCode[Int(cdb.operationCode.rawValue)]
        guard !rows.isEmpty else {
            throw SenseData(.invalidCommandOperationCode, field: FieldPointer(.cdb, byte: 0))
        }
        guard let row = rows.first(where: { $0.serviceAction == nil || $0.serviceAction == cdb.serviceAction }) else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 4))
        }
        return row
    }
}

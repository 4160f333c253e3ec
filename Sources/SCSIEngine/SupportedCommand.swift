import SCSIProtocol

/// One row of the device server's command table (STYLE.md §5): which operation code
/// (and service action) is implemented, by which handler, and whether it needs an
/// existing logical unit.
struct SupportedCommand: Sendable {
    /// How the dispatcher calls a handler.
    enum Handler: Sendable {
        /// Served for any LUN, existing or not, and exempt from unit attention
        /// reporting: INQUIRY, REPORT LUNS, REQUEST SENSE (SAM-5 §5.14).
        case anyLogicalUnit(
            @Sendable (SCSITargetDevice) -> (CommandContext, LogicalUnit?) async throws(SenseData) -> SCSICommandResult)
        /// Needs an existing logical unit; a pending unit attention is reported first.
        case logicalUnit(
            @Sendable (SCSITargetDevice) -> (CommandContext, LogicalUnit) async throws(SenseData) -> SCSICommandResult)
    }

    let name: String
    let operationCode: SCSIOperationCode
    /// For MAINTENANCE IN / SERVICE ACTION IN style commands, the service action.
    let serviceAction: UInt8?
    let handler: Handler

    /// The implemented commands (SPC-4 §6, SBC-3 §5).
    static let table: [SupportedCommand] = [
        .init(name: "TEST UNIT READY", operationCode: .testUnitReady, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.testUnitReady)),
        .init(name: "REQUEST SENSE", operationCode: .requestSense, serviceAction: nil,
              handler: .anyLogicalUnit(SCSITargetDevice.requestSense)),
        .init(name: "READ(6)", operationCode: .read6, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.read)),
        .init(name: "WRITE(6)", operationCode: .write6, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.write)),
        .init(name: "INQUIRY", operationCode: .inquiry, serviceAction: nil,
              handler: .anyLogicalUnit(SCSITargetDevice.inquiry)),
        .init(name: "MODE SELECT(6)", operationCode: .modeSelect6, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.modeSelect)),
        .init(name: "MODE SENSE(6)", operationCode: .modeSense6, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.modeSense)),
        .init(name: "START STOP UNIT", operationCode: .startStopUnit, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.startStopUnit)),
        .init(name: "READ CAPACITY(10)", operationCode: .readCapacity10, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.readCapacity10)),
        .init(name: "READ(10)", operationCode: .read10, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.read)),
        .init(name: "WRITE(10)", operationCode: .write10, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.write)),
        .init(name: "VERIFY(10)", operationCode: .verify10, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.verify)),
        .init(name: "SYNCHRONIZE CACHE(10)", operationCode: .synchronizeCache10, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.synchronizeCache)),
        .init(name: "WRITE SAME(10)", operationCode: .writeSame10, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.writeSame)),
        .init(name: "UNMAP", operationCode: .unmap, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.unmap)),
        .init(name: "MODE SELECT(10)", operationCode: .modeSelect10, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.modeSelect)),
        .init(name: "MODE SENSE(10)", operationCode: .modeSense10, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.modeSense)),
        .init(name: "READ(16)", operationCode: .read16, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.read)),
        .init(name: "WRITE(16)", operationCode: .write16, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.write)),
        .init(name: "VERIFY(16)", operationCode: .verify16, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.verify)),
        .init(name: "SYNCHRONIZE CACHE(16)", operationCode: .synchronizeCache16, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.synchronizeCache)),
        .init(name: "WRITE SAME(16)", operationCode: .writeSame16, serviceAction: nil,
              handler: .logicalUnit(SCSITargetDevice.writeSame)),
        .init(name: "READ CAPACITY(16)", operationCode: .serviceActionIn16, serviceAction: 0x10,
              handler: .logicalUnit(SCSITargetDevice.readCapacity16)),
        .init(name: "REPORT LUNS", operationCode: .reportLUNs, serviceAction: nil,
              handler: .anyLogicalUnit(SCSITargetDevice.reportLUNs)),
        .init(name: "READ(12)", operationCode: .read12, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.read)),
        .init(name: "WRITE(12)", operationCode: .write12, serviceAction: nil, handler: .logicalUnit(SCSITargetDevice.write)),
    ]

    private static let byOperationCode: [SCSIOperationCode: [SupportedCommand]] =
        Dictionary(grouping: table, by: \.operationCode)

    /// Finds the row for `cdb`: an unknown operation code is INVALID COMMAND OPERATION
    /// CODE; an unknown service action of a known one is INVALID FIELD IN CDB pointing
    /// at the SERVICE ACTION field (SPC-4 §4.2.5.1).
    static func lookup(_ cdb: CommandDescriptorBlock) throws(SenseData) -> SupportedCommand {
        guard let rows = byOperationCode[cdb.operationCode] else {
            throw SenseData(.invalidCommandOperationCode, field: FieldPointer(.cdb, byte: 0))
        }
        guard let row = rows.first(where: { $0.serviceAction == nil || $0.serviceAction == cdb.serviceAction }) else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 4))
        }
        return row
    }
}

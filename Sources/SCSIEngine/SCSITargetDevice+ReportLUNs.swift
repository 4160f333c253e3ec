import SCSIProtocol

/// REPORT LUNS (SPC-4 §6.33).
extension SCSITargetDevice {
    /// Minimum ALLOCATION LENGTH: the 8-byte header plus one LUN (SPC-4 §6.33).
    static let reportLUNsMinimumAllocationLength = 16

    /// Lists the logical units. Served through any LUN, even one with no logical unit.
    /// SELECT REPORT 00h and 02h list every logical unit; 01h (well-known logical
    /// units only) lists none since we have none.
    func reportLUNs(_ context: CommandContext, _ unit: LogicalUnit?) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let numbers: [LogicalUnitNumber]
        switch cdb[2] {
        case 0x00, 0x02: numbers = units.map(\.number)
        case 0x01: numbers = []
        default: throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2))
        }
        guard cdb.allocationLength >= Self.reportLUNsMinimumAllocationLength else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 6))
        }
        return .good(LogicalUnitNumber.reportLUNsParameterData(numbers), allocationLength: cdb.allocationLength)
    }
}

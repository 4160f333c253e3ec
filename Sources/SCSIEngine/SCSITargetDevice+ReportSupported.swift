import SCSIProtocol

/// REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35) generated from the command table,
/// and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 §6.36).
extension SCSITargetDevice {
    /// RECOMMENDED COMMAND TIMEOUT in seconds in every command timeouts descriptor
    /// (SPC-4 §6.35.4); NOMINAL COMMAND PROCESSING TIMEOUT stays 0 (not specified).
    static let recommendedCommandTimeoutSeconds: UInt32 = 30

    /// REPORTING OPTIONS 000b lists every row of ``SupportedCommand/table`` this device
    /// server offers; 001b
    /// reports one operation code without service actions, 010b one with; 011b either.
    /// RCTD adds a command timeouts descriptor to each.
    func reportSupportedOperationCodes(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let includeTimeouts = cdb.bit(7, ofByte: 2)
        let requested = SCSIOperationCode(rawValue: cdb[3])
        let requestedServiceAction = UInt8(truncatingIfNeeded: cdb.field(at: 4, width: 2))
        let offered = SupportedCommand.table.filter(offers)
        let rows = offered.filter { $0.operationCode == requested }
        let hasServiceActions = rows.contains { $0.serviceAction != nil }
        let data: [UInt8]
        switch cdb[2] & 0x07 {
        case 0b000:
            let descriptors = offered.flatMap { row -> [UInt8] in
                let flags: UInt8 = (includeTimeouts ? 0x02 : 0) | (row.serviceAction == nil ? 0 : 0x01)
                return [row.operationCode.rawValue, 0, 0, row.serviceAction ?? 0, 0, flags]
                    + UInt16(row.cdbUsageData.count).bigEndianBytes
                    + (includeTimeouts ? Self.commandTimeoutsDescriptor : [])
            }
            data = UInt32(descriptors.count).bigEndianBytes + descriptors
        case 0b001 where hasServiceActions == false:
            data = Self.oneCommand(rows.first, includeTimeouts: includeTimeouts)
        case 0b011 where hasServiceActions == false:
            data = Self.oneCommand(rows.first, includeTimeouts: includeTimeouts)
        case 0b010 where hasServiceActions || rows.isEmpty:
            data = Self.oneCommand(rows.first { $0.serviceAction == requestedServiceAction }, includeTimeouts: includeTimeouts)
        case 0b011:
            data = Self.oneCommand(rows.first { $0.serviceAction == requestedServiceAction }, includeTimeouts: includeTimeouts)
        case 0b001:
            // The operation code has service actions: 001b cannot name one (SPC-4 §6.35.2).
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 3))
        case 0b010:
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 3))
        default:
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2, bit: 2))
        }
        return .good(data, allocationLength: cdb.allocationLength)
    }

    /// One-command parameter data (SPC-4 §6.35.3, table 327): SUPPORT 011b (supported
    /// as the standard says) with the CDB usage data, or 001b (not supported).
    private static func oneCommand(_ row: SupportedCommand?, includeTimeouts: Bool) -> [UInt8] {
        guard let row else { return [0, 0x01, 0, 0] }
        let usage = row.cdbUsageData
        return [0, (includeTimeouts ? 0x80 : 0) | 0x03] + UInt16(usage.count).bigEndianBytes + usage
            + (includeTimeouts ? commandTimeoutsDescriptor : [])
    }

    /// The command timeouts descriptor (SPC-4 §6.35.4, table 329): DESCRIPTOR LENGTH 0Ah.
    private static let commandTimeoutsDescriptor: [UInt8] =
        [0x00, 0x0A, 0x00, 0x00] + UInt32(0).bigEndianBytes + recommendedCommandTimeoutSeconds.bigEndianBytes

    /// Task management functions the port layer forwards (SPC-4 §6.36, table 331):
    /// ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET, TARGET RESET
    /// (RFC 7143 §11.5.1). REPTD = 1 asks for the 16-byte extended format.
    func reportSupportedTaskManagementFunctions(
        _ context: CommandContext, _ unit: LogicalUnit
    ) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        guard cdb.allocationLength >= 4 else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 6))
        }
        let supported: [UInt8] = [0x80 | 0x40 | 0x10 | 0x08 | 0x02, 0x00]  // ATS ATSS CTSS LURS TRS
        let data = cdb.bit(7, ofByte: 2)
            ? supported + [0, 0x0C] + [UInt8](repeating: 0, count: 12)
            : supported + [0, 0]
        return .good(data, allocationLength: cdb.allocationLength)
    }
}

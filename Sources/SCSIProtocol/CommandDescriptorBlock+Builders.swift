/// The CDBs an initiator sends (discovery, the path checker, a remote LUN's I/O), built
/// from their fields; the device server reads the same fields back with
/// ``CommandDescriptorBlock/mediaAccess`` and ``CommandDescriptorBlock/allocationLength``.
extension CommandDescriptorBlock {
    /// A CDB of the length its operation code's group implies, zeros elsewhere.
    private init(_ operationCode: SCSIOperationCode, fields: [(offset: Int, bytes: [UInt8])]) {
        var bytes = [UInt8](repeating: 0, count: operationCode.cdbLength ?? 16)
        bytes[0] = operationCode.rawValue
        for field in fields { bytes.replaceSubrange(field.offset..<(field.offset + field.bytes.count), with: field.bytes) }
        self.init(bytes)
    }

    /// TEST UNIT READY (SPC-4 §6.47).
    public static let testUnitReady = CommandDescriptorBlock(.testUnitReady, fields: [])

    /// INQUIRY (SPC-4 §6.6): standard data, or with `page` that VPD page (EVPD = 1).
    public static func inquiry(page: VitalProductDataPageCode? = nil, allocationLength: UInt16) -> Self {
        Self(.inquiry, fields: [(1, [page == nil ? 0 : 0x01, page?.rawValue ?? 0] + allocationLength.bigEndianBytes)])
    }

    /// READ CAPACITY(10) (SBC-3 §5.15): LOGICAL BLOCK ADDRESS 0, PMI 0.
    public static let readCapacity10 = CommandDescriptorBlock(.readCapacity10, fields: [])

    /// SERVICE ACTION IN(16) with READ CAPACITY(16) (SBC-3 §5.16).
    public static func readCapacity16(allocationLength: UInt32 = UInt32(ReadCapacityData.readCapacity16Length)) -> Self {
        Self(.serviceActionIn16, fields: [(1, [readCapacity16ServiceAction]), (10, allocationLength.bigEndianBytes)])
    }

    /// SERVICE ACTION of READ CAPACITY(16) (SBC-3 §5.16).
    public static let readCapacity16ServiceAction: UInt8 = 0x10

    /// REPORT LUNS (SPC-4 §6.33), SELECT REPORT 00h: every logical unit.
    public static func reportLUNs(allocationLength: UInt32) -> Self {
        Self(.reportLUNs, fields: [(6, allocationLength.bigEndianBytes)])
    }

    /// MAINTENANCE IN with REPORT TARGET PORT GROUPS (SPC-4 §6.27); PARAMETER DATA
    /// FORMAT 000b (length-only header) or 001b (extended).
    public static func reportTargetPortGroups(extendedHeader: Bool = false, allocationLength: UInt32) -> Self {
        Self(.maintenanceIn, fields: [(1, [(extendedHeader ? 0x20 : 0) | reportTargetPortGroupsServiceAction]), (6, allocationLength.bigEndianBytes)])
    }

    /// SERVICE ACTION of REPORT TARGET PORT GROUPS (SPC-4 §6.27).
    public static let reportTargetPortGroupsServiceAction: UInt8 = 0x0A

    /// READ(16) (SBC-3 §5.16): LBA and TRANSFER LENGTH in blocks.
    public static func read16(lba: UInt64, blockCount: UInt32) -> Self {
        Self(.read16, fields: [(2, lba.bigEndianBytes), (10, blockCount.bigEndianBytes)])
    }

    /// WRITE(16) (SBC-3 §5.47); FUA asks for the data on stable storage before GOOD.
    public static func write16(lba: UInt64, blockCount: UInt32, forceUnitAccess: Bool = false) -> Self {
        Self(.write16, fields: [(1, [forceUnitAccess ? 0x08 : 0]), (2, lba.bigEndianBytes), (10, blockCount.bigEndianBytes)])
    }

    /// SYNCHRONIZE CACHE(16) (SBC-3 §5.26): NUMBER OF LOGICAL BLOCKS 0, the whole medium.
    public static func synchronizeCache16(lba: UInt64 = 0, blockCount: UInt32 = 0) -> Self {
        Self(.synchronizeCache16, fields: [(2, lba.bigEndianBytes), (10, blockCount.bigEndianBytes)])
    }
}

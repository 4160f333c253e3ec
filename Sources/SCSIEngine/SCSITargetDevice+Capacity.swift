import BlockStorage
import SCSIProtocol

/// READ CAPACITY(10) (SBC-3 §5.15) and READ CAPACITY(16) (SBC-3 §5.16).
extension SCSITargetDevice {
    /// RETURNED LOGICAL BLOCK ADDRESS (the last LBA, FFFFFFFFh when it does not fit,
    /// telling the initiator to use READ CAPACITY(16)) and LOGICAL BLOCK LENGTH.
    func readCapacity10(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        // PMI = 0 with a nonzero LOGICAL BLOCK ADDRESS is an error (SBC-3 §5.15.1).
        if context.cdb.bit(0, ofByte: 8) == false && context.cdb.field(at: 2, width: 4) != 0 {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2))
        }
        let data = Self.capacity(of: unit).readCapacity10Bytes
        return .good(data, allocationLength: data.count)
    }

    /// The 32-byte READ CAPACITY(16) parameter data (SBC-3 §5.16.2).
    func readCapacity16(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        .good(Self.capacity(of: unit).readCapacity16Bytes, allocationLength: context.cdb.allocationLength)
    }

    /// What READ CAPACITY reports: LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT from the
    /// backend's physical block; LBPME and LBPRZ when the backend can unmap.
    static func capacity(of unit: LogicalUnit) -> ReadCapacityData {
        let geometry = unit.geometry
        return ReadCapacityData(
            blockCount: geometry.blockCount, blockLength: UInt32(geometry.blockSize),
            logicalBlocksPerPhysicalBlockExponent: UInt8(truncatingIfNeeded: geometry.logicalBlocksPerPhysicalBlockExponent),
            provisioningManagementEnabled: unit.isThinProvisioned, readsZerosWhenUnmapped: unit.isThinProvisioned)
    }
}

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
        let lastLBA = unit.geometry.blockCount.lastLBA
        let data = UInt32(clamping: lastLBA).bigEndianBytes + UInt32(unit.blockSize).bigEndianBytes
        return .good(data, allocationLength: data.count)
    }

    /// The 32-byte READ CAPACITY(16) parameter data (SBC-3 §5.16.2): LOGICAL BLOCKS PER
    /// PHYSICAL BLOCK EXPONENT (byte 13, LOWEST ALIGNED LBA 0) from the backend's
    /// physical block; LBPME and LBPRZ (byte 14) when the backend can unmap.
    func readCapacity16(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let geometry = unit.geometry
        var data = geometry.blockCount.lastLBA.bigEndianBytes + UInt32(geometry.blockSize).bigEndianBytes
        data += [UInt8](repeating: 0, count: 20)
        data[13] = UInt8(geometry.logicalBlocksPerPhysicalBlockExponent & 0x0F)
        if unit.isThinProvisioned { data[14] = 0x80 | 0x40 }
        return .good(data, allocationLength: context.cdb.allocationLength)
    }
}

extension UInt64 {
    /// The last LBA of a medium of `self` blocks (0 for an empty medium).
    var lastLBA: UInt64 { self == 0 ? 0 : self - 1 }
}

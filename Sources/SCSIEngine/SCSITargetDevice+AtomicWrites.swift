import BlockStorage
import NIOCore
import SCSIProtocol

/// COMPARE AND WRITE (SBC-3 §5.2) and ORWRITE(16) (SBC-3 §5.10): read, combine and
/// write as one step. Both rows of the command table are `exclusive`, so the
/// logical unit's gate keeps every other command out while they run (SBC-3 §4.24).
extension SCSITargetDevice {
    /// MAXIMUM COMPARE AND WRITE LENGTH advertised in the Block Limits page, in blocks.
    static let maximumCompareAndWriteBlocks: UInt8 = 1

    /// Compares the first half of the Data-Out with the medium; when equal writes the
    /// second half, else MISCOMPARE DURING VERIFY OPERATION with the offset of the
    /// first differing byte in INFORMATION and nothing written (SBC-3 §5.2).
    func compareAndWrite(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        try checkProtectionField(context.cdb)
        guard unit.descriptor.readOnly == false else { throw SenseData(.writeProtected) }
        let access = try checkedMediaAccess(context.cdb, unit: unit)
        guard access.blockCount <= UInt64(unit.limits.maximumCompareAndWriteLength) else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 13))
        }
        let half = Int(access.blockCount) * unit.blockSize
        // The Data-Out must be exactly the verify and the write data (SBC-3 §5.2), also
        // when NUMBER OF LOGICAL BLOCKS is zero and nothing is to be transferred.
        guard Int(context.command.expectedDataTransferLength) == 2 * half else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 13))
        }
        guard half > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: 0) }
        let data = try dataOut(context, byteCount: 2 * half)
        let expected = data.getSlice(at: data.readerIndex, length: half) ?? ByteBuffer()
        let replacement = data.getSlice(at: data.readerIndex + half, length: half) ?? ByteBuffer()
        if let outcome = try await backendCompareAndWrite(expected, replacement, at: access.lba, unit: unit) {
            if case .miscompare(offset: let offset) = outcome { throw SenseData(.miscompareDuringVerifyOperation, information: UInt64(offset)) }
            if access.forceUnitAccess || !unit.writeCacheEnabled { try await flush(unit) }
            return SCSICommandResult(status: .good, dataOutLengthUsed: 2 * half)
        }
        let actual = try await readForComparison(at: access.lba, blockCount: access.blockCount, unit: unit)
        if let offset = Self.firstDifference(expected, actual) {
            throw SenseData(.miscompareDuringVerifyOperation, information: UInt64(offset))
        }
        try await write(replacement, at: access.lba, forceUnitAccess: access.forceUnitAccess, unit: unit)
        return SCSICommandResult(status: .good, dataOutLengthUsed: 2 * half)
    }

    /// ORs the Data-Out into the medium (SBC-3 §5.10, ORWRITE(16) with BMOP 000b).
    func orWrite(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        try checkProtectionField(context.cdb)
        guard unit.descriptor.readOnly == false else { throw SenseData(.writeProtected) }
        let access = try checkedMediaAccess(context.cdb, unit: unit)
        let byteCount = Int(access.blockCount) * unit.blockSize
        let data = try dataOut(context, byteCount: byteCount)
        guard byteCount > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: 0) }
        let current = try await readForComparison(at: access.lba, blockCount: access.blockCount, unit: unit)
        var combined = current
        combined.withUnsafeMutableReadableBytes { destination in
            data.withUnsafeReadableBytes { source in
                for index in 0..<min(destination.count, source.count) { destination[index] |= source[index] }
            }
        }
        try await write(combined, at: access.lba, forceUnitAccess: access.forceUnitAccess, unit: unit)
        return SCSICommandResult(status: .good, dataOutLengthUsed: byteCount)
    }
}

import BlockStorage
import Logging
import NIOCore
import SCSIProtocol

/// UNMAP (SBC-3 §5.28) and WRITE SAME(10/16) (SBC-3 §5.41, §5.42): thin provisioning
/// (SBC-3 §4.7) on backends that can deallocate, plain pattern writes otherwise.
extension SCSITargetDevice {
    /// Size of the UNMAP parameter list header and of one block descriptor (SBC-3 §5.28.2).
    static let unmapHeaderLength = 8
    static let unmapDescriptorLength = 16
    /// Largest buffer one WRITE SAME chunk writes, so memory stays bounded.
    static let writeSameChunkBytes = DeviceServerLimits.optimalTransferBytes

    func unmap(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        guard unit.isThinProvisioned else {
            throw SenseData(.invalidCommandOperationCode, field: FieldPointer(.cdb, byte: 0))
        }
        if cdb.bit(0, ofByte: 1) {  // ANCHOR: anchored state is not implemented (LBPA = 0)
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 0))
        }
        guard unit.descriptor.readOnly == false else { throw SenseData(.writeProtected) }
        let length = cdb.allocationLength
        guard length > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: 0) }
        guard length >= Self.unmapHeaderLength else { throw SenseData(.parameterListLengthError) }
        let list = Array(try dataOut(context, byteCount: length).readableBytesView)
        let descriptorBytes = min(Int(list[2]) << 8 | Int(list[3]), length - Self.unmapHeaderLength)
        let count = descriptorBytes / Self.unmapDescriptorLength
        guard count <= Int(unit.limits.maximumUnmapBlockDescriptorCount) else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 2))
        }
        let parameters = CommandDescriptorBlock(list)
        var ranges: [(lba: UInt64, blocks: UInt64)] = []
        for index in 0..<count {
            let offset = Self.unmapHeaderLength + index * Self.unmapDescriptorLength
            let range = (lba: parameters.field(at: offset, width: 8), blocks: parameters.field(at: offset + 8, width: 4))
            try checkRange(lba: range.lba, blockCount: range.blocks, unit: unit)
            guard range.blocks <= UInt64(unit.limits.maximumUnmapLBACount) else {
                throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset + 8))
            }
            ranges.append(range)
        }
        for range in ranges where range.blocks > 0 {
            do {
                try await unit.device.unmap(at: range.lba, blockCount: Int(range.blocks))
            } catch {
                throw backendFailure("unmap", error, unit: unit, lba: range.lba, sense: .writeError)
            }
        }
        return SCSICommandResult(status: .good, dataOutLengthUsed: length)
    }

    /// Writes one block's pattern over the range. With UNMAP = 1 and an all-zero block
    /// on a backend that reads zeros after unmap, the range is deallocated instead
    /// (SBC-3 §5.42: the result is indistinguishable). NDOB = 1 means a zero block.
    func writeSame(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let access = cdb.mediaAccess
        if cdb[1] & 0xE0 != 0 {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 7))
        }
        if cdb.bit(4, ofByte: 1) {  // ANCHOR
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 4))
        }
        let lengthOffset = cdb.operationCode == .writeSame10 ? 7 : 10
        // NUMBER OF LOGICAL BLOCKS 0 (WSNZ = 0 in the Block Limits page) means from the
        // LBA to the last one, and that count is held to MAXIMUM WRITE SAME LENGTH like
        // any other (SBC-3 §5.42, §6.5.3).
        var blockCount = access.blockCount
        if blockCount == 0 {
            let capacity = unit.geometry.blockCount
            guard access.lba < capacity else { throw SenseData(.lbaOutOfRange) }
            blockCount = capacity - access.lba
        }
        guard blockCount <= unit.limits.maximumWriteSameLength else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: lengthOffset))
        }
        guard unit.descriptor.readOnly == false else { throw SenseData(.writeProtected) }
        try checkRange(lba: access.lba, blockCount: blockCount, unit: unit)
        let blockSize = unit.blockSize
        let dataOutLength = cdb.writeSameHasNoDataOut ? 0 : blockSize
        // The Data-Out is exactly one logical block (SBC-3 §5.42); more or less is a
        // malformed command, not an underflow or overflow to report as a residual.
        guard Int(context.command.expectedDataTransferLength) == dataOutLength else {
            throw SenseData(.invalidFieldInCDB)
        }
        var pattern = cdb.writeSameHasNoDataOut
            ? ByteBuffer(repeating: 0, count: blockSize)
            : try dataOut(context, byteCount: blockSize)
        if cdb.bit(3, ofByte: 1) && unit.isThinProvisioned && pattern.readableBytesView.allSatisfy({ $0 == 0 }) {
            do {
                try await unit.device.unmap(at: access.lba, blockCount: Int(blockCount))
            } catch {
                throw backendFailure("unmap", error, unit: unit, lba: access.lba, sense: .writeError)
            }
            return SCSICommandResult(status: .good, dataOutLengthUsed: dataOutLength)
        }
        let written: Bool
        do {
            written = try await unit.device.writeSame(pattern, at: access.lba, blockCount: blockCount)
        } catch {
            throw backendFailure("write same", error, unit: unit, lba: access.lba, sense: .writeError)
        }
        if written {
            // Durable before GOOD with the write cache off, as every other write.
            if !unit.writeCacheEnabled { try await flush(unit) }
            return SCSICommandResult(status: .good, dataOutLengthUsed: dataOutLength)
        }
        let chunkBlocks = UInt64(max(1, Self.writeSameChunkBytes / blockSize))
        var chunk = allocator.buffer(capacity: Int(min(chunkBlocks, blockCount)) * blockSize)
        for _ in 0..<min(chunkBlocks, blockCount) {
            chunk.writeImmutableBuffer(pattern)
        }
        pattern.clear()
        var lba = access.lba
        let end = access.lba + blockCount
        while lba < end {
            let blocks = min(chunkBlocks, end - lba)
            let slice = chunk.getSlice(at: chunk.readerIndex, length: Int(blocks) * blockSize) ?? chunk
            try await write(slice, at: lba, forceUnitAccess: false, unit: unit)
            lba += blocks
        }
        return SCSICommandResult(status: .good, dataOutLengthUsed: dataOutLength)
    }
}

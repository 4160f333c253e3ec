import BlockStorage
import Logging
import NIOCore
import SCSIProtocol

/// READ (SBC-3 §5.7-§5.10), WRITE (§5.32-§5.35), VERIFY (§5.29-§5.30) and
/// SYNCHRONIZE CACHE (§5.22-§5.23): the commands that move or check blocks.
extension SCSITargetDevice {
    func read(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let access = try checkedMediaAccess(context.cdb, unit: unit)
        guard access.blockCount > 0 else { return .good }
        do {
            let data = try await unit.device.read(
                at: access.lba, blockCount: Int(access.blockCount), allocator: allocator)
            return SCSICommandResult(status: .good, dataIn: data)
        } catch {
            throw backendFailure("read", error, unit: unit, lba: access.lba, sense: .unrecoveredReadError)
        }
    }

    /// Writes the Data-Out blocks. With WCE = 0 every write is forced to stable
    /// storage, since the initiator was promised no volatile cache (SBC-3 §6.4.5).
    func write(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        try checkProtectionField(context.cdb)
        guard unit.descriptor.readOnly == false else {
            throw SenseData(.writeProtected)
        }
        let access = try checkedMediaAccess(context.cdb, unit: unit)
        let blockSize = unit.blockSize
        let byteCount = Int(access.blockCount) * blockSize
        // When the initiator's Expected Data Transfer Length is shorter than the CDB's
        // transfer length, only the whole blocks it sent are written and the port layer
        // reports the rest as residual overflow (RFC 7143 §11.4.5.1; what libiscsi's
        // iSCSIResiduals suite and tgt expect).
        let available = (context.command.dataOutSegments?.readableBytes ?? 0) / blockSize * blockSize
        let written = min(byteCount, available)
        if written > 0 {
            try await write(try dataOutSegments(context, byteCount: written), at: access.lba, forceUnitAccess: access.forceUnitAccess, unit: unit)
        }
        return SCSICommandResult(status: .good, dataOutLengthUsed: byteCount)
    }

    /// BYTCHK 00b only checks the range (the medium has no separate verify path);
    /// BYTCHK 01b compares the Data-Out with the medium and 11b one Data-Out block with
    /// each block, reporting MISCOMPARE with the offset of the first differing byte in
    /// INFORMATION (SBC-3 §5.29.1, SBC-4 §5.31); 10b is reserved.
    func verify(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let access = try checkedMediaAccess(context.cdb, unit: unit)
        switch access.byteCheck {
        case 0:
            return .good
        case 1:
            let byteCount = Int(access.blockCount) * unit.blockSize
            let expected = try dataOut(context, byteCount: byteCount)
            guard access.blockCount > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: 0) }
            let actual = try await readForComparison(at: access.lba, blockCount: access.blockCount, unit: unit)
            if let offset = Self.firstDifference(expected, actual) {
                throw SenseData(.miscompareDuringVerifyOperation, information: UInt64(offset))
            }
            return SCSICommandResult(status: .good, dataOutLengthUsed: byteCount)
        case 3:
            // BYTCHK 11b (SBC-4 §5.31): one Data-Out block, compared with every block.
            let blockSize = unit.blockSize
            let expected = try dataOut(context, byteCount: blockSize)
            guard access.blockCount > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: blockSize) }
            let actual = try await readForComparison(at: access.lba, blockCount: access.blockCount, unit: unit)
            for block in 0..<Int(access.blockCount) {
                let slice = actual.getSlice(at: actual.readerIndex + block * blockSize, length: blockSize) ?? ByteBuffer()
                if let offset = Self.firstDifference(expected, slice) {
                    throw SenseData(.miscompareDuringVerifyOperation, information: UInt64(block * blockSize + offset))
                }
            }
            return SCSICommandResult(status: .good, dataOutLengthUsed: blockSize)
        default:
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 2))
        }
    }

    /// Range-checks, then flushes the whole backend: NUMBER OF LOGICAL BLOCKS 0 means
    /// "to the end of the medium" (SBC-3 §5.22). IMMED is honoured by completing only
    /// after the flush, which SBC-3 permits.
    func synchronizeCache(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let (lba, count) = cdb.operationCode == .synchronizeCache10
            ? (cdb.field(at: 2, width: 4), cdb.field(at: 7, width: 2))
            : (cdb.field(at: 2, width: 8), cdb.field(at: 10, width: 4))
        try checkRange(lba: lba, blockCount: count, unit: unit)
        try await flush(unit)
        return .good
    }

    /// The Data-Out bytes the CDB asks for, for write-type commands: what the port
    /// layer needs to report residuals (RFC 7143 §11.4.5.1), also after a failure.
    static func dataOutLength(of cdb: CommandDescriptorBlock, blockSize: Int) -> Int? {
        switch cdb.operationCode {
        case .write6, .write10, .write12, .write16:
            return Int(cdb.mediaAccess.blockCount) * blockSize
        case .writeAndVerify10, .writeAndVerify12, .writeAndVerify16, .orWrite16:
            return Int(cdb.mediaAccess.blockCount) * blockSize
        case .compareAndWrite:
            return 2 * Int(cdb.mediaAccess.blockCount) * blockSize
        case .verify10, .verify12, .verify16:
            switch cdb.mediaAccess.byteCheck {
            case 0: return 0
            case 3: return blockSize  // one block compared with every block of the range
            default: return Int(cdb.mediaAccess.blockCount) * blockSize
            }
        case .persistentReserveOut, .extendedCopy, .maintenanceOut:
            return cdb.allocationLength
        case .writeSame10, .writeSame16:
            return cdb.writeSameHasNoDataOut ? 0 : blockSize
        case .modeSelect6, .modeSelect10, .unmap:
            return cdb.allocationLength
        default:
            return nil
        }
    }

    // MARK: - Shared checks

    /// Decodes LBA and length and applies the checks every media access command
    /// shares: no protection information requested (RDPROTECT/WRPROTECT/VRPROTECT in
    /// byte 1 bits 7..5 must be 0 without PROTECT, SBC-3 §5.8), the transfer within
    /// MAXIMUM TRANSFER LENGTH (SBC-3 §6.5.3), the range within the medium.
    func checkedMediaAccess(
        _ cdb: CommandDescriptorBlock, unit: LogicalUnit
    ) throws(SenseData) -> CommandDescriptorBlock.MediaAccess {
        let access = cdb.mediaAccess
        try checkProtectionField(cdb)
        try checkRange(lba: access.lba, blockCount: access.blockCount, unit: unit)
        if access.blockCount > UInt64(unit.limits.maximumTransferLength) {
            let lengthOffset = cdb.operationCode.cdbLength == 16 ? 10 : (cdb.operationCode.cdbLength == 12 ? 6 : 7)
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: lengthOffset))
        }
        return access
    }

    /// RDPROTECT/WRPROTECT/VRPROTECT must be zero: no protection information is
    /// formatted (SBC-3 §5.16.2 table 44). Checked before WRITE PROTECTED, as a CDB
    /// error outranks the medium's state (libiscsi's WriteProtect tests expect it).
    func checkProtectionField(_ cdb: CommandDescriptorBlock) throws(SenseData) {
        if cdb.operationCode.cdbLength != 6 && cdb[1] & 0xE0 != 0 {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 7))
        }
    }

    /// LBA OUT OF RANGE when the range leaves the medium (SBC-3 §4.5). A zero-length
    /// access may start at the block just past the end, not beyond it.
    func checkRange(lba: UInt64, blockCount: UInt64, unit: LogicalUnit) throws(SenseData) {
        let capacity = unit.geometry.blockCount
        guard lba <= capacity, blockCount <= capacity - lba else {
            throw SenseData(.lbaOutOfRange)
        }
    }

    /// The first `byteCount` Data-Out bytes, in the buffers they arrived in. A Data-Out
    /// shorter than the CDB requires is answered the way LIO does: INVALID FIELD IN
    /// COMMAND INFORMATION UNIT, never a partial write.
    func dataOutSegments(_ context: CommandContext, byteCount: Int) throws(SenseData) -> SegmentedBuffer {
        guard byteCount > 0 else { return SegmentedBuffer(ByteBuffer()) }
        guard let segments = context.command.dataOutSegments?.prefix(byteCount) else {
            throw SenseData(.invalidFieldInCommandInformationUnit)
        }
        return segments
    }

    /// The first `byteCount` Data-Out bytes in one buffer, for what reads them as a
    /// whole (parameter lists, comparisons): copied together only when they arrived in
    /// several PDUs.
    func dataOut(_ context: CommandContext, byteCount: Int) throws(SenseData) -> ByteBuffer {
        try dataOutSegments(context, byteCount: byteCount).contiguous(allocator: allocator)
    }

    /// One backend write, with backend failures mapped to MEDIUM ERROR / WRITE ERROR.
    func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool, unit: LogicalUnit) async throws(SenseData) {
        try await write(SegmentedBuffer(data), at: lba, forceUnitAccess: forceUnitAccess, unit: unit)
    }

    /// One backend write of the segments as they arrived (see ``SegmentedBuffer``).
    func write(_ data: SegmentedBuffer, at lba: UInt64, forceUnitAccess: Bool, unit: LogicalUnit) async throws(SenseData) {
        do {
            try await unit.device.write(data, at: lba, forceUnitAccess: forceUnitAccess || unit.writeCacheEnabled == false)
        } catch {
            throw backendFailure("write", error, unit: unit, lba: lba, sense: .writeError)
        }
    }

    /// Reads a range for a comparison (VERIFY, COMPARE AND WRITE,
    /// ORWRITE), a backend failure mapped to MEDIUM ERROR / UNRECOVERED READ ERROR.
    func readForComparison(at lba: UInt64, blockCount: UInt64, unit: LogicalUnit) async throws(SenseData) -> ByteBuffer {
        do {
            return try await unit.device.read(at: lba, blockCount: Int(blockCount), allocator: allocator)
        } catch {
            throw backendFailure("read for comparison", error, unit: unit, lba: lba, sense: .unrecoveredReadError)
        }
    }

    /// The offset of the first byte where `expected` and `actual` differ, if any: the
    /// INFORMATION of a MISCOMPARE (SBC-3 §5.2, §5.29.1).
    static func firstDifference(_ expected: ByteBuffer, _ actual: ByteBuffer) -> Int? {
        expected.withUnsafeReadableBytes { expected in
            actual.withUnsafeReadableBytes { actual in
                (0..<min(expected.count, actual.count)).first { expected[$0] != actual[$0] }
            }
        }
    }

    /// The backend's own atomic COMPARE AND WRITE, nil when it has none; a failure
    /// mapped to MEDIUM ERROR / WRITE ERROR.
    func backendCompareAndWrite(
        _ expected: ByteBuffer, _ replacement: ByteBuffer, at lba: UInt64, unit: LogicalUnit
    ) async throws(SenseData) -> CompareAndWriteResult? {
        do {
            return try await unit.device.compareAndWrite(expected, replacement, at: lba)
        } catch {
            throw backendFailure("compare and write", error, unit: unit, lba: lba, sense: .writeError)
        }
    }

    /// One backend flush, with a failure mapped to MEDIUM ERROR / WRITE ERROR.
    func flush(_ unit: LogicalUnit) async throws(SenseData) {
        do {
            try await unit.device.flush()
        } catch {
            throw backendFailure("flush", error, unit: unit, lba: nil, sense: .writeError)
        }
    }

    /// Logs a backend failure and gives the sense it maps to: `sense` with the LBA in
    /// INFORMATION for a failure of the operation; NOT READY for storage out of reach
    /// or fenced off (the unit then stays offline). Not async, so none of it lands in
    /// the task frame of every command.
    func backendFailure(
        _ operation: String, _ error: any Error, unit: LogicalUnit, lba: UInt64?, sense: SenseCondition
    ) -> SenseData {
        var metadata: Logger.Metadata = ["lun": "\(unit.number)", "error": "\(error)"]
        if let lba { metadata["lba"] = "\(lba)" }
        logger.error("backend \(operation) failed", metadata: metadata)
        switch (error as? BlockStorageError)?.code {
        case .fenced?:
            let first = unit.withState { state in
                defer { state.fenced = true }
                return !state.fenced
            }
            if first { logger.critical("logical unit fenced off its storage: it serves no media access until restarted", metadata: ["lun": "\(unit.number)"]) }
            return SenseData(.logicalUnitNotReadyManualInterventionRequired)
        case .unavailable?:
            // Not a medium error: the blocks may be fine and reachable through another
            // gateway. NOT READY fails the path, so a multipath host retries elsewhere
            // (Linux fails over on it; a MEDIUM ERROR would go up to the file system).
            return SenseData(.logicalUnitNotReadyCauseNotReportable)
        case .notLockHolder?:
            // Another gateway holds the medium's lock (owner mode): nothing was written,
            // and the host retries, through the owner's path once it has read the states.
            return SenseData(.logicalUnitNotAccessibleAsymmetricAccessStateTransition)
        default:
            return SenseData(sense, information: lba)
        }
    }
}

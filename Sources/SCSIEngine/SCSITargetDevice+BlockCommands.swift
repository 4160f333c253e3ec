import BlockStorage
import NIOCore
import SCSIProtocol

/// WRITE AND VERIFY (SBC-3 §5.38-§5.40), PRE-FETCH (§5.11, §5.12), GET LBA STATUS
/// (§5.5), READ DEFECT DATA (§5.19, §5.20) and PREVENT ALLOW MEDIUM REMOVAL (§5.13).
extension SCSITargetDevice {
    /// Most bytes one GET LBA STATUS reads to classify blocks, bounding its work.
    static let lbaStatusScanBytes = 1 << 20

    /// Writes like WRITE, then makes the data durable: the verification a medium with
    /// no separate verify path can give is that the blocks are on stable storage.
    func writeAndVerify(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let result = try await write(context, unit)
        if result.status == .good && unit.writeCacheEnabled {
            try await flush(unit)
        }
        return result
    }

    /// Checks the range and completes: the backend has no cache to warm, which SBC-3
    /// §5.11 allows to end with GOOD (CONDITION MET would promise a cache hit).
    func preFetch(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let access = context.cdb.mediaAccess
        try checkRange(lba: access.lba, blockCount: access.blockCount, unit: unit)
        return .good
    }

    /// LBA status descriptors from STARTING LOGICAL BLOCK ADDRESS (SBC-3 §5.5). The
    /// backend contract has no allocation query, but a thin backend reads unmapped
    /// blocks as zeros (LBPRZ), so zero blocks are reported deallocated: an initiator
    /// cannot tell the two apart. Fully provisioned backends report mapped blocks.
    func getLBAStatus(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let start = cdb.field(at: 2, width: 8)
        let capacity = unit.geometry.blockCount
        guard start < capacity else { throw SenseData(.lbaOutOfRange) }
        let maximumDescriptors = max(1, (cdb.allocationLength - 8) / 16)
        var runs: [(lba: UInt64, blocks: UInt64, deallocated: Bool)] = []
        if unit.isThinProvisioned {
            let blockSize = unit.blockSize
            let count = min(capacity - start, UInt64(max(1, Self.lbaStatusScanBytes / blockSize)))
            let data = try await readForComparison(at: start, blockCount: count, unit: unit)
            for block in 0..<Int(count) {
                let bytes = data.readableBytesView.dropFirst(block * blockSize).prefix(blockSize)
                let deallocated = bytes.allSatisfy { $0 == 0 }
                if let last = runs.last, last.deallocated == deallocated {
                    runs[runs.count - 1].blocks += 1
                } else {
                    guard runs.count < maximumDescriptors else { break }
                    runs.append((start + UInt64(block), 1, deallocated))
                }
            }
        } else {
            runs = [(start, capacity - start, false)]
        }
        let descriptors = runs.flatMap { run -> [UInt8] in
            run.lba.bigEndianBytes + UInt32(clamping: run.blocks).bigEndianBytes + [run.deallocated ? 0x01 : 0x00, 0, 0, 0]
        }
        let data = UInt32(descriptors.count + 4).bigEndianBytes + [0, 0, 0, 0] + descriptors
        return .good(data, allocationLength: cdb.allocationLength)
    }

    /// An empty defect list in the format asked for: a virtual medium has no defects.
    /// READ DEFECT DATA(10) has the list flags in byte 2 and a 4-byte header; (12) has
    /// them in byte 1 and an 8-byte header.
    func readDefectData(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let data: [UInt8] = cdb.operationCode == .readDefectData10
            ? [0, cdb[2] & 0x1F, 0, 0]
            : [0, cdb[1] & 0x1F, 0, 0, 0, 0, 0, 0]
        return .good(data, allocationLength: cdb.allocationLength)
    }

    /// The medium is not removable (RMB = 0): PREVENT 00b is accepted, any request to
    /// prevent removal is INVALID FIELD IN CDB (SBC-3 §5.13).
    func preventAllowMediumRemoval(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        guard context.cdb[4] & 0x03 == 0 else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 4, bit: 1))
        }
        return .good
    }
}

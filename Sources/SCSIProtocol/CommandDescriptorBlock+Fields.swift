/// Decoding of the fields that several commands share.
extension CommandDescriptorBlock {
    /// LBA, TRANSFER LENGTH and cache-control bits of a READ/WRITE/VERIFY/WRITE SAME CDB
    /// (SBC-3 §5.x, tables for READ(6/10/12/16), WRITE(6/10/12/16), VERIFY(10/16)).
    public struct MediaAccess: Hashable, Sendable {
        public var lba: UInt64
        /// Blocks to transfer; already 256 for a READ(6)/WRITE(6) with 0 (SBC-3 §5.13).
        public var blockCount: UInt64
        /// FUA: the write must reach stable storage / the read must bypass a cache.
        public var forceUnitAccess: Bool
        /// DPO: the data need not be kept in cache.
        public var disablePageOut: Bool
        /// Byte 1 bits 3..1 of 10/12/16-byte verify-type CDBs: BYTCHK (SBC-3 §5.29).
        public var byteCheck: UInt8
    }

    /// Decodes LBA and length by CDB size. 6-byte CDBs have a 21-bit LBA and an 8-bit
    /// length where 0 means 256 (SBC-3 §5.13, §5.40); the others put LBA at byte 2 and
    /// length after it (10: 2 bytes at 7; 12: 4 bytes at 6; 16: 8-byte LBA, 4 at 10).
    public var mediaAccess: MediaAccess {
        let flags = self[1]
        switch operationCode.cdbLength {
        case 6:
            let length = UInt64(self[4])
            return MediaAccess(
                lba: field(at: 1, width: 3) & 0x1F_FFFF,
                blockCount: length == 0 ? 256 : length,
                forceUnitAccess: false, disablePageOut: false, byteCheck: 0)
        case 10:
            return MediaAccess(
                lba: field(at: 2, width: 4), blockCount: field(at: 7, width: 2),
                forceUnitAccess: flags & 0x08 != 0, disablePageOut: flags & 0x10 != 0,
                byteCheck: (flags >> 1) & 0x03)
        case 12:
            return MediaAccess(
                lba: field(at: 2, width: 4), blockCount: field(at: 6, width: 4),
                forceUnitAccess: flags & 0x08 != 0, disablePageOut: flags & 0x10 != 0,
                byteCheck: (flags >> 1) & 0x03)
        default:
            // COMPARE AND WRITE has a one-byte NUMBER OF LOGICAL BLOCKS at byte 13 (SBC-3 §5.2).
            let blockCount = operationCode == .compareAndWrite ? UInt64(self[13]) : field(at: 10, width: 4)
            return MediaAccess(
                lba: field(at: 2, width: 8), blockCount: blockCount,
                forceUnitAccess: flags & 0x08 != 0, disablePageOut: flags & 0x10 != 0,
                byteCheck: (flags >> 1) & 0x03)
        }
    }

    /// The ALLOCATION LENGTH (or PARAMETER LIST LENGTH) field and where it sits, for the
    /// commands that carry one (SPC-4 §4.2.5.6).
    public var allocationLength: Int {
        switch operationCode {
        case .inquiry: Int(field(at: 3, width: 2))
        case .requestSense, .modeSense6, .modeSelect6: Int(self[4])
        case .modeSense10, .modeSelect10, .unmap, .persistentReserveIn, .readDefectData10: Int(field(at: 7, width: 2))
        case .reportLUNs, .maintenanceIn, .maintenanceOut, .readDefectData12: Int(field(at: 6, width: 4))
        case .persistentReserveOut: Int(field(at: 5, width: 4))
        case .serviceActionIn16, .extendedCopy, .receiveCopyResults: Int(field(at: 10, width: 4))
        case .reserve10, .release10: Int(field(at: 7, width: 2))
        default: 0
        }
    }

    /// NDOB (WRITE SAME(16) byte 1 bit 0, SBC-3 §5.42): no Data-Out buffer, write
    /// zeros. WRITE SAME(10) has no such bit.
    public var writeSameHasNoDataOut: Bool {
        operationCode == .writeSame16 && bit(0, ofByte: 1)
    }
}

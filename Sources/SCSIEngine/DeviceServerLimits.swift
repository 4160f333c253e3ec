import BlockStorage
import SCSIProtocol

/// The resource limits of the device server, as named constants; the Block Limits VPD
/// page (SBC-3 §6.5.3) is derived from them so what we advertise is what we enforce.
enum DeviceServerLimits {
    /// Largest READ/WRITE/VERIFY in bytes: 8 MiB, bounding the memory of one command.
    static let maximumTransferBytes = 8 << 20
    /// Preferred I/O size in bytes, reported as OPTIMAL TRANSFER LENGTH.
    static let optimalTransferBytes = 1 << 20
    /// Preferred alignment in bytes (OPTIMAL TRANSFER LENGTH GRANULARITY): a page.
    static let transferGranularityBytes = 4096
    /// MAXIMUM UNMAP LBA COUNT in blocks per UNMAP command: 1 Mi blocks, the most
    /// libiscsi's Block Limits check accepts.
    static let maximumUnmapBlocks: UInt32 = 1 << 20
    /// MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT; also bounds the UNMAP parameter list.
    static let maximumUnmapDescriptors: UInt32 = 256
    /// MAXIMUM WRITE SAME LENGTH in blocks (SBC-3 §6.6.4): 65535 stays below what one
    /// WRITE may carry, so an initiator that fills the range with a same-sized WRITE
    /// first (libiscsi's WriteSame16.Unmap) is not sent past MAXIMUM TRANSFER LENGTH.
    static let maximumWriteSameBlocks: UInt64 = 0xFFFF

    static func blockLimits(for geometry: BlockGeometry, unmapSupported: Bool) -> BlockLimits {
        let blockSize = max(geometry.blockSize, 1)
        return BlockLimits(
            maximumTransferLength: UInt32(maximumTransferBytes / blockSize),
            optimalTransferLengthGranularity: UInt16(max(1, transferGranularityBytes / blockSize)),
            optimalTransferLength: UInt32(optimalTransferBytes / blockSize),
            maximumUnmapLBACount: unmapSupported ? maximumUnmapBlocks : 0,
            maximumUnmapBlockDescriptorCount: unmapSupported ? maximumUnmapDescriptors : 0,
            maximumWriteSameLength: maximumWriteSameBlocks,
            maximumCompareAndWriteLength: SCSITargetDevice.maximumCompareAndWriteBlocks)
    }
}

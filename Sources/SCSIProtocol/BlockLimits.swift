/// The values advertised in the Block Limits VPD page (SBC-3 §6.5.3, table 186).
/// The engine builds one from its own limits so that what it enforces and what it
/// advertises cannot drift apart.
public struct BlockLimits: Hashable, Sendable {
    /// MAXIMUM TRANSFER LENGTH in blocks for one READ/WRITE/VERIFY.
    public var maximumTransferLength: UInt32
    /// OPTIMAL TRANSFER LENGTH GRANULARITY in blocks.
    public var optimalTransferLengthGranularity: UInt16
    /// OPTIMAL TRANSFER LENGTH in blocks.
    public var optimalTransferLength: UInt32
    /// MAXIMUM UNMAP LBA COUNT (0 when UNMAP is not supported).
    public var maximumUnmapLBACount: UInt32
    /// MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT (0 when UNMAP is not supported).
    public var maximumUnmapBlockDescriptorCount: UInt32
    /// MAXIMUM WRITE SAME LENGTH in blocks (0: not reported).
    public var maximumWriteSameLength: UInt64
    /// MAXIMUM COMPARE AND WRITE LENGTH in blocks (0: COMPARE AND WRITE not supported).
    public var maximumCompareAndWriteLength: UInt8

    public init(maximumTransferLength: UInt32, optimalTransferLengthGranularity: UInt16, optimalTransferLength: UInt32,
                maximumUnmapLBACount: UInt32, maximumUnmapBlockDescriptorCount: UInt32, maximumWriteSameLength: UInt64,
                maximumCompareAndWriteLength: UInt8 = 0) {
        self.maximumCompareAndWriteLength = maximumCompareAndWriteLength
        self.maximumTransferLength = maximumTransferLength
        self.optimalTransferLengthGranularity = optimalTransferLengthGranularity
        self.optimalTransferLength = optimalTransferLength
        self.maximumUnmapLBACount = maximumUnmapLBACount
        self.maximumUnmapBlockDescriptorCount = maximumUnmapBlockDescriptorCount
        self.maximumWriteSameLength = maximumWriteSameLength
    }
}

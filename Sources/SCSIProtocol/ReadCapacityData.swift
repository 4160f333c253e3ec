/// READ CAPACITY parameter data (SBC-3 §5.15.2 for the 10-byte command, §5.16.2 for the
/// 16-byte one): the size of the medium and how its blocks are laid out. The device
/// server writes it with ``readCapacity10Bytes`` / ``readCapacity16Bytes``; an initiator
/// reads it back with ``init(decodingReadCapacity10:)`` / ``init(decodingReadCapacity16:)``.
public struct ReadCapacityData: Hashable, Sendable {
    /// READ CAPACITY(10) parameter data length (SBC-3 table 62).
    public static let readCapacity10Length = 8
    /// READ CAPACITY(16) parameter data length (SBC-3 table 65).
    public static let readCapacity16Length = 32
    /// RETURNED LOGICAL BLOCK ADDRESS of READ CAPACITY(10) when the last LBA does not
    /// fit: ask with READ CAPACITY(16) (SBC-3 §5.15.2).
    public static let lbaTooLargeFor10 = UInt32.max

    /// Logical blocks on the medium.
    public var blockCount: UInt64
    /// LOGICAL BLOCK LENGTH IN BYTES.
    public var blockLength: UInt32
    /// LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (16 only).
    public var logicalBlocksPerPhysicalBlockExponent: UInt8
    /// LBPME: logical block provisioning management (thin provisioning) enabled (16 only).
    public var provisioningManagementEnabled: Bool
    /// LBPRZ: unmapped blocks read as zeros (16 only).
    public var readsZerosWhenUnmapped: Bool

    public init(
        blockCount: UInt64, blockLength: UInt32, logicalBlocksPerPhysicalBlockExponent: UInt8 = 0,
        provisioningManagementEnabled: Bool = false, readsZerosWhenUnmapped: Bool = false
    ) {
        self.blockCount = blockCount
        self.blockLength = blockLength
        self.logicalBlocksPerPhysicalBlockExponent = logicalBlocksPerPhysicalBlockExponent
        self.provisioningManagementEnabled = provisioningManagementEnabled
        self.readsZerosWhenUnmapped = readsZerosWhenUnmapped
    }

    /// RETURNED LOGICAL BLOCK ADDRESS: the last LBA (0 for an empty medium).
    public var lastLBA: UInt64 { blockCount == 0 ? 0 : blockCount - 1 }

    /// READ CAPACITY(10) data: the last LBA (``lbaTooLargeFor10`` when it does not fit)
    /// and LOGICAL BLOCK LENGTH IN BYTES.
    public var readCapacity10Bytes: [UInt8] {
        UInt32(clamping: lastLBA).bigEndianBytes + blockLength.bigEndianBytes
    }

    /// READ CAPACITY(16) data; LOWEST ALIGNED LOGICAL BLOCK ADDRESS 0, no protection.
    public var readCapacity16Bytes: [UInt8] {
        var bytes = lastLBA.bigEndianBytes + blockLength.bigEndianBytes
        bytes += [UInt8](repeating: 0, count: Self.readCapacity16Length - bytes.count)
        bytes[13] = logicalBlocksPerPhysicalBlockExponent & 0x0F
        bytes[14] = (provisioningManagementEnabled ? 0x80 : 0) | (readsZerosWhenUnmapped ? 0x40 : 0)
        return bytes
    }

    /// Reads READ CAPACITY(10) data. A RETURNED LOGICAL BLOCK ADDRESS of FFFFFFFFh
    /// reads as that many blocks: the caller asks again with READ CAPACITY(16).
    public init(decodingReadCapacity10 bytes: [UInt8]) throws(SCSIProtocolError) {
        try SCSIProtocolError.require(Self.readCapacity10Length, of: bytes.count, in: "READ CAPACITY(10) data")
        self.init(blockCount: bytes[0..<4].bigEndianValue + 1, blockLength: UInt32(bytes[4..<8].bigEndianValue))
    }

    /// Reads READ CAPACITY(16) data; needs the first 15 bytes (up to LBPME/LBPRZ).
    public init(decodingReadCapacity16 bytes: [UInt8]) throws(SCSIProtocolError) {
        try SCSIProtocolError.require(15, of: bytes.count, in: "READ CAPACITY(16) data")
        let lastLBA = bytes[0..<8].bigEndianValue
        guard lastLBA < UInt64.max else {
            throw SCSIProtocolError(.malformed, "READ CAPACITY(16) reports a last LBA of 2^64 - 1")
        }
        self.init(
            blockCount: lastLBA + 1, blockLength: UInt32(bytes[8..<12].bigEndianValue),
            logicalBlocksPerPhysicalBlockExponent: bytes[13] & 0x0F,
            provisioningManagementEnabled: bytes[14] & 0x80 != 0, readsZerosWhenUnmapped: bytes[14] & 0x40 != 0)
    }

    /// Whether READ CAPACITY(10) could not say the size (SBC-3 §5.15.2).
    public var needsReadCapacity16: Bool { lastLBA >= UInt64(Self.lbaTooLargeFor10) }
}

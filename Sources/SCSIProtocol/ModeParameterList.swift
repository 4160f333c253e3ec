/// The mode parameter list of MODE SENSE / MODE SELECT (SPC-4 §7.5.4-§7.5.6): header,
/// optional block descriptor, pages. The 6-byte commands use the 4-byte header, the
/// 10-byte commands the 8-byte header.
public struct ModeParameterList: Hashable, Sendable {
    /// Which header format: MODE SENSE(6)/SELECT(6) or (10).
    public enum Format: Hashable, Sendable {
        case six
        case ten

        /// Header length (SPC-4 tables 451/452).
        public var headerLength: Int { self == .six ? 4 : 8 }
    }

    /// The short LBA block descriptor (SPC-4 §7.5.5.2 / SBC-3 §6.4.2) or the long one
    /// (LONGLBA, SBC-3 §6.4.2.3).
    public struct BlockDescriptor: Hashable, Sendable {
        public var blockCount: UInt64
        public var blockLength: UInt32
        public init(blockCount: UInt64, blockLength: UInt32) {
            self.blockCount = blockCount
            self.blockLength = blockLength
        }
    }

    public var format: Format
    /// DEVICE-SPECIFIC PARAMETER (SBC-3 §6.4.1): WP bit 7, DPOFUA bit 4.
    public var writeProtected: Bool
    public var blockDescriptor: BlockDescriptor?
    /// LONGLBA: encode the block descriptor in 16 bytes (MODE SENSE(10) LLBAA).
    public var longLBA: Bool
    public var pages: [ModePage]

    public init(format: Format, writeProtected: Bool, blockDescriptor: BlockDescriptor?, longLBA: Bool, pages: [ModePage]) {
        self.format = format
        self.writeProtected = writeProtected
        self.blockDescriptor = blockDescriptor
        self.longLBA = longLBA
        self.pages = pages
    }

    /// The DEVICE-SPECIFIC PARAMETER byte: DPOFUA is set because DPO and FUA are
    /// honoured (SBC-3 §6.4.1).
    public var deviceSpecificParameter: UInt8 {
        (writeProtected ? 0x80 : 0) | 0x10
    }

    /// The list as MODE SENSE returns it; MODE DATA LENGTH excludes itself.
    public var bytes: [UInt8] {
        var descriptor: [UInt8] = []
        if let blockDescriptor {
            if longLBA && format == .ten {
                descriptor = blockDescriptor.blockCount.bigEndianBytes + [0, 0, 0, 0]
                    + blockDescriptor.blockLength.bigEndianBytes
            } else {
                // Short descriptor: NUMBER OF BLOCKS saturates at FFFFFFFFh (SBC-3 §6.4.2.2).
                let count = UInt32(clamping: blockDescriptor.blockCount)
                descriptor = count.bigEndianBytes + [0] + Array(blockDescriptor.blockLength.bigEndianBytes.suffix(3))
            }
        }
        let body = pages.flatMap(\.bytes)
        switch format {
        case .six:
            let total = 4 + descriptor.count + body.count
            return [UInt8(truncatingIfNeeded: total - 1), 0x00, deviceSpecificParameter, UInt8(descriptor.count)]
                + descriptor + body
        case .ten:
            let total = 8 + descriptor.count + body.count
            return UInt16(truncatingIfNeeded: total - 2).bigEndianBytes
                + [0x00, deviceSpecificParameter, longLBA && descriptor.count == 16 ? 0x01 : 0x00, 0x00]
                + UInt16(descriptor.count).bigEndianBytes + descriptor + body
        }
    }
}

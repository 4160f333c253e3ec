/// Standard INQUIRY data (SPC-4 §6.6.2, table 140), always built as 96 bytes so the
/// version descriptors fit; the caller truncates to the ALLOCATION LENGTH.
public struct StandardInquiryData: Hashable, Sendable {
    /// The length we build: 36 mandatory bytes plus the version descriptors (bytes 58-73)
    /// and padding up to the 96 bytes Linux and Windows ask for.
    public static let length = 96
    /// VERSION 06h: the device server claims SPC-4.
    public static let spc4Version: UInt8 = 0x06
    /// Version descriptors (SPC-4 table 144): SAM-5, iSCSI (no version claimed),
    /// SPC-4, SBC-3.
    public static let versionDescriptors: [UInt16] = [0x00A0, 0x0960, 0x0460, 0x04C0]

    public var peripheral: PeripheralDevice
    /// T10 VENDOR IDENTIFICATION, space padded to 8 ASCII characters.
    public var vendor: String
    /// PRODUCT IDENTIFICATION, space padded to 16.
    public var product: String
    /// PRODUCT REVISION LEVEL, space padded to 4.
    public var revision: String
    /// TPGS field (byte 5 bits 5..4, SPC-4 §6.6.2 table 141): 00b no ALUA, else
    /// ``implicitALUA`` and/or ``explicitALUA``.
    public var targetPortGroupSupport: UInt8 = 0
    /// TPGS bit: the device server changes asymmetric access states by itself, and
    /// answers REPORT TARGET PORT GROUPS (SPC-4 §5.15.2.7).
    public static let implicitALUA: UInt8 = 0b01
    /// TPGS bit: SET TARGET PORT GROUPS changes asymmetric access states (SPC-4 §5.15.2.8).
    public static let explicitALUA: UInt8 = 0b10
    /// 3PC: third-party copy commands supported.
    public var thirdPartyCopy = false

    public init(peripheral: PeripheralDevice, vendor: String, product: String, revision: String) {
        self.peripheral = peripheral
        self.vendor = vendor
        self.product = product
        self.revision = revision
    }

    public var bytes: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.length)
        bytes[0] = peripheral.rawValue
        bytes[1] = 0x00  // RMB = 0: not removable
        bytes[2] = Self.spc4Version
        bytes[3] = 0x10 | 0x02  // HISUP (SAM-5 hierarchical LUNs) | RESPONSE DATA FORMAT 2
        bytes[4] = UInt8(Self.length - 5)  // ADDITIONAL LENGTH
        bytes[5] = (targetPortGroupSupport & 0x03) << 4 | (thirdPartyCopy ? 0x08 : 0)
        bytes[6] = 0x00
        bytes[7] = 0x02  // CMDQUE: full task management model (SAM-5 §8.6)
        bytes.replaceSubrange(8..<16, with: vendor.spacePadded(to: 8))
        bytes.replaceSubrange(16..<32, with: product.spacePadded(to: 16))
        bytes.replaceSubrange(32..<36, with: revision.spacePadded(to: 4))
        for (index, descriptor) in Self.versionDescriptors.enumerated() {
            bytes.replaceSubrange((58 + 2 * index)..<(60 + 2 * index), with: descriptor.bigEndianBytes)
        }
        return bytes
    }
}

extension StandardInquiryData {
    /// The mandatory part of standard INQUIRY data (SPC-4 §6.6.2): up to PRODUCT
    /// REVISION LEVEL.
    public static let minimumLength = 36

    /// Reads standard INQUIRY data: the peripheral byte, TPGS and 3PC, and the three
    /// ASCII fields as sent (space padded), non-printable bytes as spaces.
    ///
    /// - Throws: ``SCSIProtocolError`` `truncated` below ``minimumLength`` bytes.
    public init(decoding bytes: [UInt8]) throws(SCSIProtocolError) {
        try SCSIProtocolError.require(Self.minimumLength, of: bytes.count, in: "standard INQUIRY data")
        self.init(
            peripheral: PeripheralDevice(rawValue: bytes[0]), vendor: String(asciiField: bytes[8..<16]),
            product: String(asciiField: bytes[16..<32]), revision: String(asciiField: bytes[32..<36]))
        targetPortGroupSupport = (bytes[5] >> 4) & 0x03
        thirdPartyCopy = bytes[5] & 0x08 != 0
    }
}

/// The SENSE KEY SPECIFIC field (SPC-4 §4.5.2.4) as far as we use it: the field
/// pointer of an ILLEGAL REQUEST, telling the initiator which byte (and bit) of the
/// CDB or parameter list was wrong.
public struct FieldPointer: Hashable, Sendable {
    /// Where the offending field is.
    public enum Location: Hashable, Sendable {
        /// In the CDB (C/D = 1).
        case cdb
        /// In the Data-Out parameter list (C/D = 0).
        case parameterList
    }

    public var location: Location
    /// Byte offset of the field's most significant byte.
    public var byte: UInt16
    /// The field's most significant bit within that byte, if known (sets BPV).
    public var bit: UInt8?

    public init(_ location: Location, byte: Int, bit: UInt8? = nil) {
        self.location = location
        self.byte = UInt16(truncatingIfNeeded: byte)
        self.bit = bit
    }

    /// The three SENSE KEY SPECIFIC bytes (SPC-4 table 46), SKSV set.
    public var bytes: [UInt8] {
        var first: UInt8 = 0x80  // SKSV
        if location == .cdb { first |= 0x40 }  // C/D
        if let bit { first |= 0x08 | (bit & 0x07) }  // BPV + BIT POINTER
        return [first, UInt8(byte >> 8), UInt8(byte & 0xFF)]
    }

    /// Reads the three SENSE KEY SPECIFIC bytes of an ILLEGAL REQUEST (SPC-4 table
    /// 46); nil when SKSV is clear (the field holds no pointer) or bytes are missing.
    public init?(senseKeySpecific bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count >= 3, bytes[0] & 0x80 != 0 else { return nil }
        self.init(
            bytes[0] & 0x40 != 0 ? .cdb : .parameterList, byte: Int(bytes[1]) << 8 | Int(bytes[2]),
            bit: bytes[0] & 0x08 != 0 ? bytes[0] & 0x07 : nil)
    }
}

extension FieldPointer: CustomStringConvertible {
    /// `CDB byte 2 bit 5`, `parameter list byte 8`.
    public var description: String {
        (location == .cdb ? "CDB" : "parameter list") + " byte \(byte)" + (bit.map { " bit \($0)" } ?? "")
    }
}

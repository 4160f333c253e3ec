/// The content of sense data as it travels (SPC-4 §4.5): what any device server's
/// CHECK CONDITION carries, whether it is ours (built from a ``SenseData``) or another
/// target's (decoded by an initiator). One codec for both roles: ``fixedFormat`` and
/// ``descriptorFormat`` write it, ``init(decoding:)`` reads either format back.
public struct ReportedSense: Hashable, Sendable, CustomStringConvertible {
    /// RESPONSE CODE 70h: current error, fixed format (SPC-4 §4.5.3).
    public static let fixedFormatResponseCode: UInt8 = 0x70
    /// RESPONSE CODE 71h: deferred error, fixed format.
    public static let deferredFixedFormatResponseCode: UInt8 = 0x71
    /// RESPONSE CODE 72h: current error, descriptor format (SPC-4 §4.5.2).
    public static let descriptorFormatResponseCode: UInt8 = 0x72
    /// RESPONSE CODE 73h: deferred error, descriptor format.
    public static let deferredDescriptorFormatResponseCode: UInt8 = 0x73
    /// Fixed format sense data up to the SENSE KEY SPECIFIC field (bytes 0-17).
    public static let fixedFormatLength = 18
    /// The fixed format bytes an initiator needs: up to the ADDITIONAL SENSE CODE
    /// QUALIFIER (byte 13).
    static let fixedFormatMinimumLength = 14
    /// The descriptor format header (bytes 0-7).
    static let descriptorFormatHeaderLength = 8
    /// DESCRIPTOR TYPE 00h, Information (SPC-4 §4.5.2.2) and its ADDITIONAL LENGTH.
    static let informationDescriptor: (type: UInt8, length: UInt8) = (0x00, 0x0A)
    /// DESCRIPTOR TYPE 02h, Sense key specific (SPC-4 §4.5.2.3) and its ADDITIONAL LENGTH.
    static let senseKeySpecificDescriptor: (type: UInt8, length: UInt8) = (0x02, 0x06)

    public var code: SenseCode
    /// The INFORMATION field when VALID is set (the first failing LBA, a miscompare offset).
    public var information: UInt64?
    /// The field pointer of an ILLEGAL REQUEST (SENSE KEY SPECIFIC with SKSV set).
    public var field: FieldPointer?
    /// RESPONSE CODE 71h/73h: the error belongs to an earlier command (SPC-4 §4.5.1).
    public var isDeferred: Bool

    public init(code: SenseCode, information: UInt64? = nil, field: FieldPointer? = nil, isDeferred: Bool = false) {
        self.code = code
        self.information = information
        self.field = field
        self.isDeferred = isDeferred
    }

    /// The condition of this device server's table the code names, if any.
    public var condition: SenseCondition? { SenseCondition(code) }

    /// Fixed format sense data (SPC-4 §4.5.3, table 45), 18 bytes.
    public var fixedFormat: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.fixedFormatLength)
        bytes[0] = isDeferred ? Self.deferredFixedFormatResponseCode : Self.fixedFormatResponseCode
        bytes[2] = code.key.rawValue & 0x0F
        // The fixed format INFORMATION field holds 4 bytes; VALID stays clear when the
        // value does not fit (SPC-4 §4.5.3).
        if let information, information <= UInt64(UInt32.max) {
            bytes[0] |= 0x80
            bytes.replaceSubrange(3..<7, with: UInt32(information).bigEndianBytes)
        }
        bytes[7] = UInt8(Self.fixedFormatLength - 8)  // ADDITIONAL SENSE LENGTH
        bytes[12] = code.asc
        bytes[13] = code.ascq
        if let field {
            bytes.replaceSubrange(15..<18, with: field.bytes)
        }
        return bytes
    }

    /// Descriptor format sense data (SPC-4 §4.5.2) with an information descriptor
    /// (§4.5.2.2) and a sense key specific descriptor (§4.5.2.3) when present.
    public var descriptorFormat: [UInt8] {
        var descriptors: [UInt8] = []
        if let information {
            descriptors += [Self.informationDescriptor.type, Self.informationDescriptor.length, 0x80, 0x00]
                + information.bigEndianBytes
        }
        if let field {
            descriptors += [Self.senseKeySpecificDescriptor.type, Self.senseKeySpecificDescriptor.length, 0x00, 0x00]
                + field.bytes + [0x00]
        }
        return [
            isDeferred ? Self.deferredDescriptorFormatResponseCode : Self.descriptorFormatResponseCode,
            code.key.rawValue & 0x0F, code.asc, code.ascq, 0x00, 0x00, 0x00, UInt8(descriptors.count),
        ] + descriptors
    }

    /// Reads fixed (70h/71h) or descriptor (72h/73h) format sense data. A field pointer
    /// is read only for ILLEGAL REQUEST, the one sense key whose SENSE KEY SPECIFIC
    /// field is a pointer (SPC-4 §4.5.2.4.1).
    ///
    /// - Throws: ``SCSIProtocolError`` `truncated` when the bytes end before the sense
    ///   code or inside a descriptor, `malformed` for another response code.
    public init(decoding bytes: [UInt8]) throws(SCSIProtocolError) {
        try SCSIProtocolError.require(1, of: bytes.count, in: "sense data")
        switch bytes[0] & 0x7F {
        case Self.fixedFormatResponseCode, Self.deferredFixedFormatResponseCode:
            try SCSIProtocolError.require(Self.fixedFormatMinimumLength, of: bytes.count, in: "fixed format sense data")
            let code = SenseCode(key: SenseKey(rawValue: bytes[2] & 0x0F), asc: bytes[12], ascq: bytes[13])
            let information = bytes[0] & 0x80 != 0 ? UInt64(bytes[3..<7].bigEndianValue) : nil
            var field: FieldPointer?
            if code.key == .illegalRequest, bytes.count >= Self.fixedFormatLength {
                field = FieldPointer(senseKeySpecific: bytes[15..<18])
            }
            self.init(code: code, information: information, field: field, isDeferred: bytes[0] & 0x7F == Self.deferredFixedFormatResponseCode)
        case Self.descriptorFormatResponseCode, Self.deferredDescriptorFormatResponseCode:
            try SCSIProtocolError.require(Self.descriptorFormatHeaderLength, of: bytes.count, in: "descriptor format sense data")
            let code = SenseCode(key: SenseKey(rawValue: bytes[1] & 0x0F), asc: bytes[2], ascq: bytes[3])
            let end = Self.descriptorFormatHeaderLength + Int(bytes[7])
            try SCSIProtocolError.require(end, of: bytes.count, in: "descriptor format sense data")
            var information: UInt64?
            var field: FieldPointer?
            var offset = Self.descriptorFormatHeaderLength
            while offset < end {
                try SCSIProtocolError.require(offset + 2, of: end, in: "sense data descriptor list")
                let type = bytes[offset]
                let length = Int(bytes[offset + 1])
                try SCSIProtocolError.require(offset + 2 + length, of: end, in: "sense data descriptor list")
                let body = bytes[(offset + 2)..<(offset + 2 + length)]
                if type == Self.informationDescriptor.type, length == Self.informationDescriptor.length,
                   body[body.startIndex] & 0x80 != 0 {
                    information = body.dropFirst(2).bigEndianValue
                } else if type == Self.senseKeySpecificDescriptor.type, length == Self.senseKeySpecificDescriptor.length,
                          code.key == .illegalRequest {
                    field = FieldPointer(senseKeySpecific: body.dropFirst(2).prefix(3))
                }
                offset += 2 + length
            }
            self.init(code: code, information: information, field: field, isDeferred: bytes[0] & 0x7F == Self.deferredDescriptorFormatResponseCode)
        default:
            throw SCSIProtocolError(.malformed, "sense data response code 0x\(String(bytes[0] & 0x7F, radix: 16)) is neither fixed nor descriptor format")
        }
    }

    /// `05/24/00 invalidFieldInCDB, information 7, field CDB byte 2 bit 5`.
    public var description: String {
        var words = [code.description]
        if let condition { words.append("\(condition)") }
        if isDeferred { words.append("deferred") }
        if let information { words.append("information \(information)") }
        if let field { words.append("field \(field)") }
        return words.joined(separator: " ")
    }
}

extension Collection<UInt8> {
    /// The bytes as one big-endian unsigned value (SPC-4 §3.5.3); at most 8 bytes.
    var bigEndianValue: UInt64 { reduce(0) { $0 << 8 | UInt64($1) } }
}

/// Sense data for one CHECK CONDITION (or REQUEST SENSE reply), SPC-4 §4.5.
///
/// Command handlers throw it: it conforms to `Error` so that a handler can bail out
/// with `throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1))`
/// and the dispatcher turns it into CHECK CONDITION in one place.
public struct SenseData: Error, Hashable, Sendable {
    public var condition: SenseCondition
    /// The INFORMATION field (e.g. the first failing LBA, or the miscompare offset).
    public var information: UInt64?
    /// The field pointer for ILLEGAL REQUEST conditions.
    public var field: FieldPointer?

    public init(_ condition: SenseCondition, information: UInt64? = nil, field: FieldPointer? = nil) {
        self.condition = condition
        self.information = information
        self.field = field
    }

    /// Response code 70h: current error, fixed format.
    public static let fixedFormatResponseCode: UInt8 = 0x70
    /// Response code 72h: current error, descriptor format.
    public static let descriptorFormatResponseCode: UInt8 = 0x72
    /// Length of fixed format sense data with no additional bytes beyond byte 17.
    public static let fixedFormatLength = 18

    /// Fixed format sense data (SPC-4 §4.5.3, table 45), 18 bytes.
    public var fixedFormat: [UInt8] {
        let (key, asc, ascq) = condition.code
        var bytes = [UInt8](repeating: 0, count: Self.fixedFormatLength)
        bytes[0] = Self.fixedFormatResponseCode
        bytes[2] = key.rawValue & 0x0F
        if let information {
            // The fixed format INFORMATION field holds 4 bytes; VALID stays clear when
            // the value does not fit (SPC-4 §4.5.3).
            if information <= UInt64(UInt32.max) {
                bytes[0] |= 0x80
                bytes.replaceSubrange(3..<7, with: UInt32(information).bigEndianBytes)
            }
        }
        bytes[7] = UInt8(Self.fixedFormatLength - 8)  // ADDITIONAL SENSE LENGTH
        bytes[12] = asc
        bytes[13] = ascq
        if let field {
            bytes.replaceSubrange(15..<18, with: field.bytes)
        }
        return bytes
    }

    /// Descriptor format sense data (SPC-4 §4.5.2) with an information descriptor
    /// (§4.5.2.2) and a sense key specific descriptor (§4.5.2.3) when present.
    public var descriptorFormat: [UInt8] {
        let (key, asc, ascq) = condition.code
        var descriptors: [UInt8] = []
        if let information {
            descriptors += [0x00, 0x0A, 0x80, 0x00] + information.bigEndianBytes
        }
        if let field {
            descriptors += [0x02, 0x06, 0x00, 0x00] + field.bytes + [0x00]
        }
        return [
            Self.descriptorFormatResponseCode, key.rawValue & 0x0F, asc, ascq,
            0x00, 0x00, 0x00, UInt8(descriptors.count),
        ] + descriptors
    }
}

/// A logical unit number in SAM single-level addressing (SAM-5 §4.7.7).
///
/// Only the first two bytes of the 8-byte LUN field carry a single-level LUN:
/// peripheral device addressing (00b, LUN 0...255) or flat space addressing
/// (01b, LUN 0...16383). Anything else does not name a logical unit here.
public struct LogicalUnitNumber: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The LUN value, 0...16383.
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Decodes the 64-bit LUN field as it came on the wire, or nil when it uses an
    /// addressing method or level we do not support.
    public init?(wireValue: UInt64) {
        guard wireValue & 0x0000_FFFF_FFFF_FFFF == 0 else { return nil }
        let firstTwo = UInt16(wireValue >> 48)
        switch firstTwo >> 14 {
        case 0b00 where firstTwo & 0x3F00 == 0:  // peripheral: bus identifier must be 0
            self.rawValue = firstTwo & 0x00FF
        case 0b01:
            self.rawValue = firstTwo & 0x3FFF
        default:
            return nil
        }
    }

    /// The 8-byte wire form: peripheral addressing below 256, flat space above, as
    /// Linux and LIO encode it (SAM-5 §4.7.7.2/§4.7.7.4).
    public var wireValue: UInt64 {
        let firstTwo: UInt16 = rawValue < 256 ? rawValue : (0x4000 | (rawValue & 0x3FFF))
        return UInt64(firstTwo) << 48
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "LUN \(rawValue)" }
}

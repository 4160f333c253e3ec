/// SENSE KEY, ADDITIONAL SENSE CODE and ADDITIONAL SENSE CODE QUALIFIER (SPC-4 §4.5.6,
/// Annex D table D.2): the triple every CHECK CONDITION comes down to. The device server
/// derives it from a ``SenseCondition``; an initiator reads it from sense data
/// (``ReportedSense``) and the DSM's sense table matches on it.
public struct SenseCode: Hashable, Sendable, Codable, CustomStringConvertible {
    public var key: SenseKey
    public var asc: UInt8
    public var ascq: UInt8

    public init(key: SenseKey, asc: UInt8, ascq: UInt8) {
        self.key = key
        self.asc = asc
        self.ascq = ascq
    }

    /// Parses `KEY/ASC/ASCQ` in hex, e.g. `02/04/0B` (the form ``description`` prints).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).compactMap { UInt8($0, radix: 16) }
        guard parts.count == 3, parts[0] <= 0x0F else { return nil }
        self.init(key: SenseKey(rawValue: parts[0]), asc: parts[1], ascq: parts[2])
    }

    /// `02/04/0B`, the form SCSI people write.
    public var description: String {
        [key.rawValue, asc, ascq].map { byte in
            let digits = Array("0123456789ABCDEF")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined(separator: "/")
    }
}

/// SENSE KEY, ADDITIONAL SENSE CODE and QUALIFIER of a CHECK CONDITION (SPC-4 §4.5):
/// all the DSM needs from sense data to tell path trouble from LU trouble.
public struct SenseCode: Hashable, Sendable, CustomStringConvertible {
    public var key: UInt8
    public var asc: UInt8
    public var ascq: UInt8

    public init(key: UInt8, asc: UInt8, ascq: UInt8) {
        self.key = key
        self.asc = asc
        self.ascq = ascq
    }

    /// `02/04/0B`, the form SCSI people write.
    public var description: String {
        [key, asc, ascq].map { byte in
            let digits = Array("0123456789ABCDEF")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined(separator: "/")
    }
}

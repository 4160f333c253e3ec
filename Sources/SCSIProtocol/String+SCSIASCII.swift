/// ASCII fields of INQUIRY data (SPC-4 §4.4.1): printable ASCII, left aligned,
/// space padded, truncated to the field width.
extension String {
    /// The string as a fixed-width ASCII field; non-printable and non-ASCII characters
    /// become spaces so that a misconfigured name can never corrupt the layout.
    public func spacePadded(to width: Int) -> [UInt8] {
        let printable = self.utf8.prefix(width).map { (0x20...0x7E).contains($0) ? $0 : 0x20 }
        return printable + [UInt8](repeating: 0x20, count: width - printable.count)
    }

    /// Reads a fixed-width ASCII field as sent, padding included; a byte outside
    /// printable ASCII reads as a space, the way ``spacePadded(to:)`` writes one.
    public init(asciiField bytes: some Collection<UInt8>) {
        self.init(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : 0x20 }, as: UTF8.self)
    }
}

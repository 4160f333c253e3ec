/// One `MPIOSupportedDeviceList` entry (ARCHITECTURE.md §4; the MPIO DSM sample INF).
///
/// An entry is the T10 vendor identification (8 characters, space padded) followed by
/// the product identification (up to 16 characters). It is compared as a **prefix** of
/// the device's 24-character INQUIRY vendor + product (SPC-4 §6.6.2, bytes 8–31): a
/// full 24-character entry names one product, a shorter product part names every
/// product that starts with it (`"VENDOR3 PROD_PREFIX"` claims `PROD_PREFIX_A/B/C`).
/// Comparison is byte-wise and case-sensitive because INQUIRY ASCII fields are bytes
/// 0x20–0x7E (SPC-4 §4.3.1); an underscore is a character and never stands for a space.
public struct SupportedDeviceEntry: Hashable, Sendable, CustomStringConvertible {
    /// Length of the INQUIRY T10 VENDOR IDENTIFICATION field (SPC-4 table 148).
    public static let vendorLength = 8
    /// Length of the INQUIRY PRODUCT IDENTIFICATION field (SPC-4 table 148).
    public static let productLength = 16
    /// Vendor + product: the longest meaningful entry.
    public static let maximumLength = vendorLength + productLength

    /// The entry exactly as compared: 8 to 24 ASCII bytes.
    public let pattern: [UInt8]

    /// Parses an entry as written in the INF or the config (`"VENDOR1 PRODUCT1        "`).
    ///
    /// The text is taken literally, spaces included. Rejected: non-ASCII or control
    /// characters, fewer than 8 or more than 24 characters, a vendor field that starts
    /// with a space, and a vendor field with a space before further characters — the
    /// usual sign of a vendor that was not padded to 8 (`"MAXTOR ATLASU320_18_WLS"`
    /// would compare `"MAXTOR A"` against the vendor field and claim nothing).
    public init(parsing text: String) throws(MultipathDSMError) {
        let bytes = Array(text.utf8)
        func invalid(_ why: String) -> MultipathDSMError {
            MultipathDSMError(.invalidSupportedDeviceEntry, message: "\"\(text)\": \(why)")
        }
        guard bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw invalid("only printable ASCII may appear in INQUIRY identification (SPC-4 §4.3.1)")
        }
        guard bytes.count <= Self.maximumLength else {
            throw invalid("\(bytes.count) characters; vendor (8) + product (16) is at most 24")
        }
        guard bytes.count >= Self.vendorLength else {
            throw invalid("the vendor must be padded with spaces to 8 characters")
        }
        let vendor = bytes[0..<Self.vendorLength]
        guard vendor.first != UInt8(ascii: " ") else {
            throw invalid("the vendor field starts with a space; INQUIRY vendor identification is left-aligned")
        }
        if let space = vendor.firstIndex(of: UInt8(ascii: " ")),
           vendor[space...].contains(where: { $0 != UInt8(ascii: " ") }) {
            let name = String(decoding: vendor[..<space], as: UTF8.self)
            let product = String(decoding: bytes[space...].drop(while: { $0 == UInt8(ascii: " ") }), as: UTF8.self)
            let fixed = Self.padded(name, to: Self.vendorLength) + product
            throw invalid("the vendor field \"\(String(decoding: vendor, as: UTF8.self))\" has a space inside it; pad the vendor to 8 characters (did you mean \"\(fixed)\"?)")
        }
        self.pattern = bytes
    }

    /// An entry from separate fields: the vendor is padded to 8 characters; the product
    /// is a prefix unless `exactProduct`, which pads it to 16 so only that product matches.
    public init(vendor: String, product: String, exactProduct: Bool = false) throws(MultipathDSMError) {
        let text = Self.padded(vendor, to: Self.vendorLength)
            + (exactProduct ? Self.padded(product, to: Self.productLength) : product)
        try self.init(parsing: text)
    }

    /// The vendor field (always 8 characters, as compared).
    public var vendor: String { String(decoding: pattern.prefix(Self.vendorLength), as: UTF8.self) }

    /// The product part as compared: a prefix of the product field, spaces kept.
    public var product: String { String(decoding: pattern.dropFirst(Self.vendorLength), as: UTF8.self) }

    /// True when the entry is a prefix of the device's 24-character vendor + product.
    public func matches(vendor: String, product: String) -> Bool {
        let identification = Array(Self.padded(vendor, to: Self.vendorLength).utf8.prefix(Self.vendorLength))
            + Array(Self.padded(product, to: Self.productLength).utf8.prefix(Self.productLength))
        return identification.starts(with: pattern)
    }

    /// The entry between quotes, spaces visible, as it would appear in an INF.
    public var description: String { "\"\(String(decoding: pattern, as: UTF8.self))\"" }

    /// `text` followed by spaces up to `length` characters (never truncated).
    static func padded(_ text: String, to length: Int) -> String {
        text + String(repeating: " ", count: max(0, length - text.utf8.count))
    }
}

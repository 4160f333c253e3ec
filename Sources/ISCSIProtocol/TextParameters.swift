import NIOCore

/// An ordered list of `key=value` pairs, the data segment of Login and Text PDUs
/// (RFC 7143 §6.1): UTF-8, each pair terminated by a NUL byte.
public struct TextParameters: Hashable, Sendable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// Longest key name (RFC 7143 §6.1: 63 bytes).
    public static let maximumKeyLength = 63
    /// Longest value we accept (RFC 7143 §6.1: 255 bytes, or 8192 for some keys such as
    /// CHAP challenges and SendTargets results).
    public static let maximumValueLength = 8192

    public private(set) var pairs: [(key: String, value: String)]

    public init() { pairs = [] }
    public init(_ pairs: [(String, String)]) { self.pairs = pairs.map { (key: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    /// Parses a complete text (all Continue-bit fragments joined).
    public init(decoding bytes: [UInt8]) throws(ISCSIProtocolError) {
        pairs = []
        for field in bytes.split(separator: 0, omittingEmptySubsequences: true) {
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else {
                throw ISCSIProtocolError(.malformedText, "text field '\(String(decoding: field, as: UTF8.self))' has no '=' (RFC 7143 §6.1)")
            }
            let key = String(decoding: field[field.startIndex..<equals], as: UTF8.self)
            let value = String(decoding: field[(equals + 1)...], as: UTF8.self)
            guard !key.isEmpty, key.utf8.count <= Self.maximumKeyLength else {
                throw ISCSIProtocolError(.malformedText, "key '\(key)' is empty or longer than 63 bytes (RFC 7143 §6.1)")
            }
            guard value.utf8.count <= Self.maximumValueLength else {
                throw ISCSIProtocolError(.malformedText, "value of '\(key)' is longer than 8192 bytes (RFC 7143 §6.1)")
            }
            pairs.append((key, value))
        }
    }

    /// The value of the first occurrence of `key`.
    public subscript(key: String) -> String? {
        pairs.first { $0.key == key }?.value
    }

    /// Keys that occur more than once: RFC 7143 §6.2 makes that a protocol error.
    public var duplicateKeys: [String] {
        var seen = Set<String>()
        return pairs.compactMap { seen.insert($0.key).inserted ? nil : $0.key }
    }

    public mutating func append(_ key: String, _ value: String) {
        pairs.append((key, value))
    }

    public var isEmpty: Bool { pairs.isEmpty }

    /// The wire form: each `key=value` followed by NUL.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        for pair in pairs {
            bytes += Array(pair.key.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes += Array(pair.value.utf8)
            bytes.append(0)
        }
        return bytes
    }

    public var description: String {
        pairs.map { $0.key.hasPrefix("CHAP_") && $0.key != "CHAP_A" ? "\($0.key)=…" : "\($0.key)=\($0.value)" }
            .joined(separator: " ")
    }

    public static func == (lhs: TextParameters, rhs: TextParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.key == $1.key && $0.value == $1.value }
    }
    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.key)
            hasher.combine(pair.value)
        }
    }
}

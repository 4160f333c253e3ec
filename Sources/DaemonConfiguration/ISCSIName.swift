/// Validation of iSCSI names (RFC 7143 §4.2.7) for targets and for initiator ACLs.
///
/// Only the ASCII subset is accepted: the RFC 3722 stringprep profile folds names to
/// lower case and initiators compare names byte for byte, so a name must already be in
/// its normalised form or logins fail with "target not found" for no visible reason.
enum ISCSIName {
    /// RFC 7143 §4.2.7.1: an iSCSI name is at most 223 bytes.
    static let maximumLength = 223

    static func validate(_ name: String) throws(ConfigurationValueError) {
        guard name.utf8.count <= maximumLength else {
            throw ConfigurationValueError(
                "iSCSI name '\(name)' is \(name.utf8.count) bytes long; RFC 7143 §4.2.7.1 allows at most \(maximumLength)"
            )
        }
        if name.hasPrefix("eui.") {
            try validateHexIdentifier(name, digitCounts: [16], format: "eui. followed by 16 hex digits (RFC 7143 §4.2.7.5)")
        } else if name.hasPrefix("naa.") {
            try validateHexIdentifier(name, digitCounts: [16, 32], format: "naa. followed by 16 or 32 hex digits (RFC 7143 §4.2.7.6)")
        } else if name.lowercased().hasPrefix("iqn.") {
            try validateIQN(name)
        } else {
            throw ConfigurationValueError(
                "'\(name)' is not an iSCSI name",
                suggestion: "iSCSI names start with iqn., eui. or naa., e.g. \"iqn.2026-11.com.example:storage\""
            )
        }
    }

    /// `iqn.yyyy-mm.reversed.domain[:anything]` (RFC 7143 §4.2.7.4).
    private static func validateIQN(_ name: String) throws(ConfigurationValueError) {
        let lowercased = name.lowercased()
        guard lowercased == name else {
            throw ConfigurationValueError(
                "iSCSI name '\(name)' contains upper-case letters; names are compared in their lower-case form (RFC 3722)",
                suggestion: "write \"\(lowercased)\""
            )
        }
        if let bad = name.unicodeScalars.first(where: { !isNameCharacter($0) }) {
            throw ConfigurationValueError(
                "iSCSI name '\(name)' contains '\(bad)'; only a-z, 0-9, '-', '.' and ':' are allowed (RFC 7143 §4.2.7.2)"
            )
        }
        let format = "iqn.YYYY-MM.reversed.domain[:identifier], e.g. \"iqn.2026-11.com.example:storage\" (RFC 7143 §4.2.7.4)"
        let utf8 = Array(name.utf8)
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard utf8.count > 12, utf8[4..<8].allSatisfy(isDigit), utf8[8] == UInt8(ascii: "-"),
              utf8[9..<11].allSatisfy(isDigit), utf8[11] == UInt8(ascii: ".")
        else {
            throw ConfigurationValueError("'\(name)' does not have the form \(format)")
        }
        let month = Int(String(decoding: utf8[9..<11], as: UTF8.self)) ?? 0
        guard (1...12).contains(month) else {
            throw ConfigurationValueError("'\(name)' has month \(month) in its date; it must be 01...12")
        }
        let authority = name.dropFirst(12).prefix { $0 != ":" }
        guard !authority.isEmpty, !authority.hasPrefix("."), !authority.hasSuffix("."), !authority.contains("..") else {
            throw ConfigurationValueError("'\(name)' needs a reversed domain name after the date: \(format)")
        }
    }

    /// eui. and naa. names carry hex digits; either case is accepted because the RFC's own
    /// examples use upper case ("eui.02004567A425678D").
    private static func validateHexIdentifier(_ name: String, digitCounts: [Int], format: String) throws(ConfigurationValueError) {
        let digits = name.dropFirst(4)
        guard digitCounts.contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isHexDigit }) else {
            throw ConfigurationValueError("'\(name)' is not a valid name of the form \(format)")
        }
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "0"..."9", "-", ".", ":": true
        default: false
        }
    }
}

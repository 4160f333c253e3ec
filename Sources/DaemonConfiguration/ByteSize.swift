/// Parses capacities written as `"1GiB"`, `"512MiB"`, `"1T"` or a plain byte count.
///
/// Every unit is a power of 1024 (K = KiB). Decimal units ("GB") are rejected instead of
/// guessed, because a disk 7% smaller or larger than intended is found out too late.
/// `package`: the admin socket's `lun add --size` and `lun resize` read sizes the same way.
package enum ByteSize {
    /// Multipliers by unit, case-insensitive.
    private static let units: [String: UInt64] = [
        "": 1,
        "k": 1 << 10, "kib": 1 << 10,
        "m": 1 << 20, "mib": 1 << 20,
        "g": 1 << 30, "gib": 1 << 30,
        "t": 1 << 40, "tib": 1 << 40,
    ]

    package static func parse(_ text: String) throws(ConfigurationValueError) -> UInt64 {
        let trimmed = trimmingSpaces(Substring(text))
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unit = trimmingSpaces(trimmed.dropFirst(digits.count))
        guard !digits.isEmpty, let count = UInt64(digits) else {
            throw ConfigurationValueError(
                "'\(text)' is not a size",
                suggestion: "write a whole number of bytes or a number with a unit, e.g. \"512MiB\" or \"1GiB\""
            )
        }
        guard let multiplier = units[unit.lowercased()] else {
            let binary = unit.count == 2 && unit.lowercased().hasSuffix("b") ? "\(unit.prefix(1).uppercased())iB" : "GiB"
            throw ConfigurationValueError(
                "unknown size unit '\(unit)' in '\(text)'",
                suggestion: "units are powers of 1024: K/KiB, M/MiB, G/GiB, T/TiB; write \"\(digits)\(binary)\""
            )
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow else {
            throw ConfigurationValueError("size '\(text)' is too large")
        }
        return bytes
    }

    private static func trimmingSpaces(_ text: Substring) -> Substring {
        let start = text.drop { $0 == " " }
        return start.dropLast(start.reversed().prefix { $0 == " " }.count)
    }
}

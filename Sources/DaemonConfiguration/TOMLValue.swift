/// A TOML value together with the line it starts on, so that every semantic error can
/// point at the exact line (TOMLKit cannot report lines, hence our own parser).
///
/// Only the TOML types Swiftport's configuration uses exist here; floats and dates are
/// rejected by ``TOMLDocument`` with an error rather than parsed and ignored.
public struct TOMLValue: Sendable, Equatable {
    /// The value itself.
    public enum Kind: Sendable, Equatable {
        /// A basic ("...") or literal ('...') string, escapes already resolved.
        case string(String)
        /// A decimal, hexadecimal (0x), octal (0o) or binary (0b) integer.
        case integer(Int64)
        /// `true` or `false`.
        case boolean(Bool)
        /// An array (`[...]`), or an array of tables built from `[[header]]` sections.
        case array([TOMLValue])
        /// An inline table, a `[header]` table, or a table created by dotted keys.
        case table(TOMLTable)
    }

    /// The value.
    public var kind: Kind
    /// 1-based line on which the value starts (for a `[[header]]` element: the header's line).
    public var line: Int

    public init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
    }

    /// The TOML name of this value's type, for messages such as "must be an integer, not a string".
    public var typeName: String {
        switch kind {
        case .string: "a string"
        case .integer: "an integer"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

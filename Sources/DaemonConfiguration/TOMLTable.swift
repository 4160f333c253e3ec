/// A TOML table whose keys keep the order and the line they were written on.
///
/// Order matters for people, not for TOML: errors are reported in file order and
/// `config check` output then reads top to bottom.
public struct TOMLTable: Sendable, Equatable {
    /// One `key = value` (or sub-table) of the table.
    public struct Entry: Sendable, Equatable {
        /// The key, unquoted, one component of a dotted key.
        public var key: String
        /// Line of the key (for a sub-table: the line of its header or first dotted key).
        public var line: Int
        /// The value.
        public var value: TOMLValue

        public init(key: String, line: Int, value: TOMLValue) {
            self.key = key
            self.line = line
            self.value = value
        }
    }

    /// Line of the table's `[header]` or `[[header]]`; the line where an inline or
    /// implicitly created table starts; 1 for the root table.
    public var line: Int
    /// The entries in the order they appear in the file.
    public var entries: [Entry]

    public init(line: Int, entries: [Entry] = []) {
        self.line = line
        self.entries = entries
    }

    /// The entry for `key`, if present.
    public subscript(key: String) -> Entry? {
        entries.first { $0.key == key }
    }
}

/// A parsed TOML file in which every value remembers its line.
///
/// Swiftport's own small, strict TOML parser: TOMLKit cannot say on which line a key was
/// written, and every configuration error must name file *and* line. It accepts the
/// TOML 1.0 subset the configuration needs: comments, bare/quoted/dotted keys, `[table]`,
/// `[[array.of.tables]]` (also nested, like `[[target.lun]]` after `[[target]]`), basic
/// strings with escapes, literal strings, integers (decimal, `0x`, `0o`, `0b`, with
/// underscores), booleans, arrays (multi-line, trailing comma) and inline tables.
/// Floats, dates and multi-line strings are rejected with an error that says so, rather
/// than half-supported. Parsing stops at the first syntax error: after one, the rest of
/// the file cannot be read reliably.
public struct TOMLDocument: Sendable, Equatable {
    /// The top-level table.
    public var root: TOMLTable

    /// Parses `text`; `file` is only used in error messages.
    public init(parsing text: String, file: String) throws(ConfigurationError) {
        var parser = TOMLParser(text: text, file: file)
        root = try parser.parseDocument()
    }
}

/// A table under construction. A reference type because headers and dotted keys reach
/// back into tables defined earlier; frozen into a ``TOMLTable`` value at the end.
private final class TableNode {
    /// How the table came to exist; decides whether a later header or dotted key may
    /// define or extend it (TOML 1.0, "Table" and "Array of Tables").
    enum Origin {
        /// The document root.
        case root
        /// Created as an intermediate of a header (`[a.b]` creates `a`); a later `[a]` may define it.
        case implicit
        /// Defined by its own `[header]` or `[[header]]`; may not be defined again.
        case header
        /// Created by a dotted key (`a.b = 1` creates `a`); only more dotted keys may extend it.
        case dotted
        /// An inline table `{ ... }`; sealed once its closing brace is read.
        case inline
    }

    /// What a key of the table holds.
    enum Item {
        case value(TOMLValue)
        case table(TableNode)
        /// Elements of an array of tables, in `[[header]]` order.
        case tableArray([TableNode])
    }

    var origin: Origin
    var line: Int
    private(set) var keys: [String] = []
    private(set) var items: [String: Item] = [:]
    private(set) var keyLines: [String: Int] = [:]

    init(origin: Origin, line: Int) {
        self.origin = origin
        self.line = line
    }

    func set(_ key: String, _ item: Item, line: Int) {
        if items[key] == nil {
            keys.append(key)
            keyLines[key] = line
        }
        items[key] = item
    }

    func firstLine(of key: String) -> Int {
        keyLines[key] ?? line
    }

    func freeze() -> TOMLTable {
        TOMLTable(line: line, entries: keys.map { key in
            let keyLine = firstLine(of: key)
            switch items[key]! {
            case .value(let value):
                return TOMLTable.Entry(key: key, line: keyLine, value: value)
            case .table(let table):
                return TOMLTable.Entry(key: key, line: keyLine, value: TOMLValue(.table(table.freeze()), line: table.line))
            case .tableArray(let tables):
                let elements = tables.map { TOMLValue(.table($0.freeze()), line: $0.line) }
                return TOMLTable.Entry(key: key, line: keyLine, value: TOMLValue(.array(elements), line: keyLine))
            }
        })
    }
}

/// Recursive-descent parser over the UTF-8 bytes of the document.
private struct TOMLParser {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1

    init(text: String, file: String) {
        bytes = Array(text.utf8)
        self.file = file
    }

    // MARK: Document structure

    mutating func parseDocument() throws(ConfigurationError) -> TOMLTable {
        let root = TableNode(origin: .root, line: 1)
        var current = root
        while true {
            skipBlankLinesAndComments()
            guard let byte = peek() else { break }
            if byte == UInt8(ascii: "[") {
                current = try parseHeader(root: root)
            } else {
                try parseKeyValue(into: current)
            }
            try expectEndOfLine()
        }
        return root.freeze()
    }

    /// `[a.b]` or `[[a.b]]`: returns the table that following key/values go into.
    private mutating func parseHeader(root: TableNode) throws(ConfigurationError) -> TableNode {
        let headerLine = line
        index += 1
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { index += 1 }
        skipWhitespace()
        let path = try parseKey()
        skipWhitespace()
        let closing = isArray ? "]]" : "]"
        for _ in 0..<(isArray ? 2 : 1) {
            guard peek() == UInt8(ascii: "]") else {
                throw error("expected '\(closing)' to close the table header", suggestion: nil)
            }
            index += 1
        }

        var table = root
        for (depth, key) in path.dropLast().enumerated() {
            let name = Self.displayName(path.prefix(depth + 1))
            switch table.items[key] {
            case nil:
                let created = TableNode(origin: .implicit, line: headerLine)
                table.set(key, .table(created), line: headerLine)
                table = created
            case .table(let existing):
                table = existing
            case .tableArray(let elements):
                table = elements[elements.count - 1]
            case .value(let value):
                throw error(
                    "'\(name)' already holds \(value.typeName) (line \(value.line)) and cannot also be a table",
                    line: headerLine
                )
            }
        }

        let key = path[path.count - 1]
        let name = Self.displayName(path)
        let node = TableNode(origin: .header, line: headerLine)
        switch (table.items[key], isArray) {
        case (nil, false):
            table.set(key, .table(node), line: headerLine)
        case (nil, true):
            table.set(key, .tableArray([node]), line: headerLine)
        case (.table(let existing), false) where existing.origin == .implicit:
            existing.origin = .header
            existing.line = headerLine
            return existing
        case (.table(let existing), false):
            throw error(
                "table [\(name)] is defined twice (first on line \(existing.line))",
                line: headerLine,
                suggestion: "merge the two sections into one"
            )
        case (.tableArray(let elements), true):
            table.set(key, .tableArray(elements + [node]), line: headerLine)
        case (.tableArray, false):
            throw error(
                "[\(name)] is an array of tables (first on line \(table.firstLine(of: key)))",
                line: headerLine,
                suggestion: "write [[\(name)]] to add another element"
            )
        case (.table, true):
            throw error(
                "[[\(name)]] conflicts with the table [\(name)] on line \(table.firstLine(of: key))",
                line: headerLine,
                suggestion: "use either [\(name)] once or [[\(name)]] for every element"
            )
        case (.value(let value), _):
            throw error(
                "'\(name)' already holds \(value.typeName) (line \(value.line)) and cannot also be a table",
                line: headerLine
            )
        }
        return node
    }

    /// `key = value`, where key may be dotted; dotted keys create sub-tables of `table`.
    private mutating func parseKeyValue(into table: TableNode) throws(ConfigurationError) {
        let keyLine = line
        let path = try parseKey()
        skipWhitespace()
        guard peek() == UInt8(ascii: "=") else {
            throw error("expected '=' after key '\(Self.displayName(path))'", suggestion: "write \(Self.displayName(path)) = value")
        }
        index += 1
        skipWhitespace()
        let value = try parseValue()

        var target = table
        for (depth, key) in path.dropLast().enumerated() {
            switch target.items[key] {
            case nil:
                let created = TableNode(origin: .dotted, line: keyLine)
                target.set(key, .table(created), line: keyLine)
                target = created
            case .table(let existing) where existing.origin == .dotted:
                target = existing
            default:
                throw error(
                    "'\(Self.displayName(path.prefix(depth + 1)))' is already defined on line \(target.firstLine(of: key)) and cannot be extended with a dotted key",
                    line: keyLine,
                    suggestion: "put the key under that table's own header"
                )
            }
        }
        let key = path[path.count - 1]
        if target.items[key] != nil {
            throw error(
                "duplicate key '\(Self.displayName(path))' (first defined on line \(target.firstLine(of: key)))",
                line: keyLine,
                suggestion: "remove one of them"
            )
        }
        target.set(key, .value(value), line: keyLine)
    }

    /// A simple or dotted key: `a`, `"a b"`, `'a'`, `a.b."c"`.
    private mutating func parseKey() throws(ConfigurationError) -> [String] {
        var components: [String] = []
        while true {
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: "\""):
                components.append(try parseBasicString())
            case UInt8(ascii: "'"):
                components.append(try parseLiteralString())
            case let byte? where Self.isBareKeyByte(byte):
                let start = index
                while let next = peek(), Self.isBareKeyByte(next) { index += 1 }
                components.append(String(decoding: bytes[start..<index], as: UTF8.self))
            default:
                throw error(
                    "expected a key, found \(describeNext())",
                    suggestion: "keys are letters, digits, '_' and '-', or a quoted string"
                )
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ".") else { return components }
            index += 1
        }
    }

    // MARK: Values

    private mutating func parseValue() throws(ConfigurationError) -> TOMLValue {
        let valueLine = line
        guard let byte = peek() else {
            throw error("expected a value, found the end of the file")
        }
        switch byte {
        case UInt8(ascii: "\""):
            return TOMLValue(.string(try parseBasicString()), line: valueLine)
        case UInt8(ascii: "'"):
            return TOMLValue(.string(try parseLiteralString()), line: valueLine)
        case UInt8(ascii: "["):
            return TOMLValue(.array(try parseArray()), line: valueLine)
        case UInt8(ascii: "{"):
            return TOMLValue(.table(try parseInlineTable()), line: valueLine)
        default:
            return try parseScalarToken(line: valueLine)
        }
    }

    /// Booleans and integers; recognises floats, dates, `inf` and `nan` only to reject them.
    private mutating func parseScalarToken(line valueLine: Int) throws(ConfigurationError) -> TOMLValue {
        let start = index
        while let byte = peek(), Self.isScalarTokenByte(byte) { index += 1 }
        let token = String(decoding: bytes[start..<index], as: UTF8.self)
        switch token {
        case "true": return TOMLValue(.boolean(true), line: valueLine)
        case "false": return TOMLValue(.boolean(false), line: valueLine)
        case "":
            throw error(
                "expected a value, found \(describeNext())",
                suggestion: "write a string in double quotes, an integer, true/false, [array] or { inline table }"
            )
        default:
            break
        }
        if let integer = try parseInteger(token) {
            return TOMLValue(.integer(integer), line: valueLine)
        }
        let unsigned = token.drop { $0 == "+" || $0 == "-" }
        if token.contains(":") || Self.looksLikeDate(token) {
            throw error("dates and times are not supported", suggestion: "write the value as a string in double quotes")
        }
        if unsigned == "inf" || unsigned == "nan"
            || (unsigned.first?.isNumber == true && unsigned.contains { $0 == "." || $0 == "e" || $0 == "E" })
        {
            throw error("floating-point values are not supported", suggestion: "use an integer")
        }
        if token.first?.isLetter == true {
            throw error("expected a value, found '\(token)'", suggestion: "strings must be quoted: write \"\(token)\"")
        }
        throw error("'\(token)' is not a valid integer")
    }

    /// `1979-05-27...`: four digits and a dash start every TOML date.
    private static func looksLikeDate(_ token: String) -> Bool {
        let head = Array(token.utf8.prefix(5))
        return head.count == 5 && head[0..<4].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            && head[4] == UInt8(ascii: "-")
    }

    /// Parses a TOML 1.0 integer; nil when `token` is not integer-shaped at all.
    private func parseInteger(_ token: String) throws(ConfigurationError) -> Int64? {
        var digits = Substring(token)
        var negative = false
        var radix = 10
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        if let (prefix, base) = [("0x", 16), ("0o", 8), ("0b", 2)].first(where: { digits.hasPrefix($0.0) }) {
            guard !negative && digits.count == token.count else {
                throw error("'\(token)': a sign is not allowed before \(prefix)")
            }
            radix = base
            digits = digits.dropFirst(2)
        }
        guard let first = digits.first, first.isHexDigit, digits.allSatisfy({ $0.isHexDigit || $0 == "_" }) else {
            return nil
        }
        if digits.hasSuffix("_") || digits.contains("__") {
            throw error("'\(token)': an underscore must stand between two digits")
        }
        if radix == 10 && digits.count > 1 && first == "0" {
            throw error("'\(token)': leading zeros are not allowed", suggestion: "write \(digits.drop { $0 == "0" || $0 == "_" })")
        }
        let cleaned = digits.filter { $0 != "_" }
        guard let magnitude = UInt64(cleaned, radix: radix) else {
            if radix == 10 && cleaned.contains(where: { !$0.isNumber }) {
                return nil
            }
            throw error("'\(token)' is not a valid base-\(radix) integer or does not fit in 64 bits")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else {
                throw error("'\(token)' does not fit in a 64-bit integer")
            }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else {
            throw error("'\(token)' does not fit in a 64-bit integer")
        }
        return Int64(magnitude)
    }

    /// `[ v, v, ]`: newlines and comments may appear between elements.
    private mutating func parseArray() throws(ConfigurationError) -> [TOMLValue] {
        let startLine = line
        index += 1
        var elements: [TOMLValue] = []
        while true {
            skipBlankLinesAndComments()
            guard let byte = peek() else {
                throw error("array opened on line \(startLine) is not closed", suggestion: "add ']'")
            }
            if byte == UInt8(ascii: "]") {
                index += 1
                return elements
            }
            elements.append(try parseValue())
            skipBlankLinesAndComments()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                continue
            default:
                throw error("expected ',' or ']' in the array opened on line \(startLine), found \(describeNext())")
            }
        }
    }

    /// `{ k = v, k = v }` on one line (TOML 1.0: no newlines, no trailing comma).
    private mutating func parseInlineTable() throws(ConfigurationError) -> TOMLTable {
        let table = TableNode(origin: .inline, line: line)
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return table.freeze()
        }
        while true {
            skipWhitespace()
            try parseKeyValue(into: table)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                return table.freeze()
            default:
                throw error(
                    "expected ',' or '}' in the inline table, found \(describeNext())",
                    suggestion: "an inline table must fit on one line; use a [table] section for longer ones"
                )
            }
        }
    }

    /// `"..."` with escapes (TOML 1.0 "String").
    private mutating func parseBasicString() throws(ConfigurationError) -> String {
        if hasPrefix("\"\"\"") {
            throw error("multi-line strings (\"\"\") are not supported", suggestion: "write the string on one line, using \\n for line breaks")
        }
        index += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek(), byte != UInt8(ascii: "\n") else {
                throw error("unterminated string", suggestion: "close it with '\"' on the same line")
            }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try appendEscape(to: &utf8)
            case _ where Self.isForbiddenControl(byte):
                throw error("control character 0x\(String(byte, radix: 16)) in a string", suggestion: "escape it as \\u00\(byte < 16 ? "0" : "")\(String(byte, radix: 16))")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func appendEscape(to utf8: inout [UInt8]) throws(ConfigurationError) {
        guard let escape = peek() else {
            throw error("unterminated string")
        }
        index += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "t"): 0x09, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "f"): 0x0C,
            UInt8(ascii: "r"): 0x0D, UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C,
        ]
        if let replacement = simple[escape] {
            utf8.append(replacement)
            return
        }
        let width: Int
        switch escape {
        case UInt8(ascii: "u"): width = 4
        case UInt8(ascii: "U"): width = 8
        default:
            throw error(
                "invalid escape '\\\(Character(Unicode.Scalar(escape)))' in a string",
                suggestion: "use \\\\ for a backslash, or a 'literal string' in single quotes for paths"
            )
        }
        let end = index + width
        guard end <= bytes.count,
              let code = UInt32(String(decoding: bytes[index..<end], as: UTF8.self), radix: 16),
              let scalar = Unicode.Scalar(code)
        else {
            throw error("invalid \\\(Character(Unicode.Scalar(escape))) escape: expected \(width) hex digits naming a Unicode scalar value")
        }
        index = end
        utf8.append(contentsOf: String(Character(scalar)).utf8)
    }

    /// `'...'`: no escapes at all, which is why Windows-style or regex-like values use it.
    private mutating func parseLiteralString() throws(ConfigurationError) -> String {
        if hasPrefix("'''") {
            throw error("multi-line strings (''') are not supported", suggestion: "write the string on one line")
        }
        index += 1
        let start = index
        while let byte = peek(), byte != UInt8(ascii: "'") {
            if byte == UInt8(ascii: "\n") || Self.isForbiddenControl(byte) { break }
            index += 1
        }
        guard peek() == UInt8(ascii: "'") else {
            throw error("unterminated literal string", suggestion: "close it with \"'\" on the same line")
        }
        index += 1
        return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
    }

    // MARK: Whitespace, comments, lines

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
    }

    private mutating func skipComment() {
        guard peek() == UInt8(ascii: "#") else { return }
        while let byte = peek(), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") { index += 1 }
    }

    /// Consumes one `\n` or `\r\n`; returns false if the next bytes are not a newline.
    private mutating func consumeNewline() -> Bool {
        if peek() == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
            index += 1
        }
        guard peek() == UInt8(ascii: "\n") else { return false }
        index += 1
        line += 1
        return true
    }

    private mutating func skipBlankLinesAndComments() {
        repeat {
            skipWhitespace()
            skipComment()
        } while consumeNewline()
    }

    /// After a key/value or header only a comment may follow on the same line.
    private mutating func expectEndOfLine() throws(ConfigurationError) {
        skipWhitespace()
        skipComment()
        guard peek() == nil || consumeNewline() else {
            throw error(
                "expected the end of the line, found \(describeNext())",
                suggestion: "put each key = value and each [table] header on its own line"
            )
        }
    }

    // MARK: Helpers

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private func hasPrefix(_ prefix: String) -> Bool {
        bytes[index...].starts(with: prefix.utf8)
    }

    private func describeNext() -> String {
        guard let byte = peek() else { return "the end of the file" }
        if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { return "the end of the line" }
        let end = bytes[index...].firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") } ?? bytes.count
        return "'\(String(decoding: bytes[index..<min(end, index + 20)], as: UTF8.self))'"
    }

    private func error(_ message: String, line errorLine: Int? = nil, suggestion: String? = nil) -> ConfigurationError {
        ConfigurationError(file: file, line: errorLine ?? line, message: message, suggestion: suggestion)
    }

    private static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// Bytes that may make up a bare scalar (number, boolean, or a date/float we reject).
    private static func isScalarTokenByte(_ byte: UInt8) -> Bool {
        isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    /// TOML forbids control characters other than tab inside strings and comments.
    private static func isForbiddenControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F
    }

    /// `a.b."c d"`: how a key path is written, for messages.
    static func displayName(_ path: some Collection<String>) -> String {
        path.map { component in
            !component.isEmpty && component.utf8.allSatisfy(isBareKeyByte) ? component : "\"\(component)\""
        }.joined(separator: ".")
    }
}

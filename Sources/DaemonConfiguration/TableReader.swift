/// Typed, error-reporting access to the keys of one TOML table.
///
/// Every accessor returns nil both when the key is absent and when it has the wrong type;
/// in the second case it has already reported an error that shows what to write, so
/// callers only decide what absence means (a default, or ``missing(_:example:)``).
struct TableReader {
    /// The table being read.
    let table: TOMLTable
    /// How the table is named in messages: `[daemon]`, `[[target.lun]]`.
    let name: String
    let decoder: ConfigurationDecoder

    func string(_ key: String, example: String) -> Located<String>? {
        guard let value = table[key]?.value else { return nil }
        guard case .string(let string) = value.kind else {
            return wrongType(key, value, expected: "a string", example: example)
        }
        return Located(value: string, line: value.line)
    }

    /// An integer within `range`, converted to the property's integer type.
    func integer<Integer: FixedWidthInteger>(_ key: String, in range: ClosedRange<Integer>, example: String) -> Located<Integer>? {
        guard let value = table[key]?.value else { return nil }
        guard case .integer(let integer) = value.kind else {
            return wrongType(key, value, expected: "an integer", example: example)
        }
        guard let integer = Integer(exactly: integer), range.contains(integer) else {
            decoder.report(
                "'\(key)' must be between \(range.lowerBound) and \(range.upperBound), not \(integer)",
                line: value.line,
                suggestion: "write \(key) = \(example)"
            )
            return nil
        }
        return Located(value: integer, line: value.line)
    }

    func boolean(_ key: String) -> Located<Bool>? {
        guard let value = table[key]?.value else { return nil }
        guard case .boolean(let boolean) = value.kind else {
            return wrongType(key, value, expected: "true or false", example: "true")
        }
        return Located(value: boolean, line: value.line)
    }

    /// An array whose elements are all strings.
    func strings(_ key: String, example: String) -> [Located<String>]? {
        guard let value = table[key]?.value else { return nil }
        guard case .array(let elements) = value.kind else {
            return wrongType(key, value, expected: "an array of strings", example: example)
        }
        var strings: [Located<String>] = []
        for element in elements {
            guard case .string(let string) = element.kind else {
                decoder.report(
                    "elements of '\(key)' must be strings, not \(element.typeName)",
                    line: element.line,
                    suggestion: "write \(key) = \(example)"
                )
                return nil
            }
            strings.append(Located(value: string, line: element.line))
        }
        return strings
    }

    /// A sub-table such as `[target.auth]`, read with its own known keys.
    func table(_ key: String, named name: String, keys: [String]) -> TableReader? {
        guard let value = table[key]?.value else { return nil }
        guard case .table(let subtable) = value.kind else {
            decoder.report("'\(key)' must be a table, not \(value.typeName)", line: value.line, suggestion: "write it as a \(name) section")
            return nil
        }
        return decoder.reader(for: subtable, named: name, keys: keys)
    }

    /// The elements of an array of tables such as `[[target.lun]]`; empty when absent.
    func tables(_ key: String, named name: String, keys: [String]) -> [TableReader] {
        guard let value = table[key]?.value else { return [] }
        guard case .array(let elements) = value.kind else {
            let hint = if case .table = value.kind { "write \(name) with double brackets: there can be several" } else { "write one \(name) section per element" }
            decoder.report("'\(key)' must be an array of tables, not \(value.typeName)", line: value.line, suggestion: hint)
            return []
        }
        return elements.compactMap { element in
            guard case .table(let subtable) = element.kind else {
                decoder.report(
                    "elements of '\(key)' must be tables, not \(element.typeName)",
                    line: element.line,
                    suggestion: "write one \(name) section per element"
                )
                return nil
            }
            return decoder.reader(for: subtable, named: name, keys: keys)
        }
    }

    /// The value of `key` if it is a string, without reporting anything: for checks
    /// across tables (duplicate names) that must not repeat the table's own errors.
    func peekString(_ key: String) -> Located<String>? {
        guard let value = table[key]?.value, case .string(let string) = value.kind else { return nil }
        return Located(value: string, line: value.line)
    }

    /// The value of `key` if it is an integer, without reporting anything (see ``peekString(_:)``).
    func peekInteger(_ key: String) -> Located<Int64>? {
        guard let value = table[key]?.value, case .integer(let integer) = value.kind else { return nil }
        return Located(value: integer, line: value.line)
    }

    /// The line of `key`, or of the table header when the key is absent.
    func line(of key: String) -> Int {
        table[key]?.line ?? table.line
    }

    /// Reports that a required key is absent, at the table's header line.
    func missing(_ key: String, example: String) {
        decoder.report("\(name) has no '\(key)'", line: table.line, suggestion: "add \(key) = \(example)")
    }

    /// Reports a value of the wrong TOML type.
    func wrongType<Value>(_ key: String, _ value: TOMLValue, expected: String, example: String) -> Value? {
        decoder.report("'\(key)' must be \(expected), not \(value.typeName)", line: value.line, suggestion: "write \(key) = \(example)")
        return nil
    }
}

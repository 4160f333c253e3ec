/// Reads the typed configuration out of a ``TOMLDocument`` and collects every error on
/// the way instead of stopping at the first, so one `swiftport config check` run lists
/// everything to fix.
///
/// A class because every ``TableReader`` reports into the same list.
final class ConfigurationDecoder {
    /// The file name used in every error.
    let file: String
    /// Errors in the order they were found.
    private(set) var errors: [ConfigurationError] = []
    /// Reading a whole file: the gateways its `[cluster]` names (empty without one), which
    /// a LUN's `home_gateway` must be one of. nil: a LUN read alone (`lun add`), checked
    /// against the running daemon's cluster instead.
    var clusterGateways: [String]?

    init(file: String) {
        self.file = file
    }

    /// Parses TOML `text` and reads its top-level table, named `name` in errors, with
    /// `body`. Throws every problem in line order (a TOML syntax error stops parsing,
    /// so it is then the only one).
    static func read<Value>(
        _ text: String, file: String, named name: String, keys: [String], _ body: (TableReader) -> Value?
    ) throws(ConfigurationErrors) -> Value {
        let document: TOMLDocument
        do {
            document = try TOMLDocument(parsing: text, file: file)
        } catch {
            throw ConfigurationErrors([error])
        }
        let decoder = ConfigurationDecoder(file: file)
        let value = body(decoder.reader(for: document.root, named: name, keys: keys))
        guard let value, decoder.errors.isEmpty else {
            // Stable sort: errors on one line keep the order in which they were found.
            let sorted = decoder.errors.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }
            throw ConfigurationErrors(sorted.map(\.element))
        }
        return value
    }

    func report(_ message: String, line: Int, suggestion: String? = nil) {
        errors.append(ConfigurationError(file: file, line: line, message: message, suggestion: suggestion))
    }

    func report(_ error: ConfigurationValueError, line: Int) {
        report(error.message, line: line, suggestion: error.suggestion)
    }

    /// Runs one of the value parsers (portal, network, size, iSCSI name) on a located
    /// string and reports its error at that string's line.
    func parse<Value>(
        _ text: Located<String>,
        with parser: (String) throws(ConfigurationValueError) -> Value
    ) -> Located<Value>? {
        do {
            return Located(value: try parser(text.value), line: text.line)
        } catch {
            report(error, line: text.line)
            return nil
        }
    }

    /// Records `key` as seen on `line`; reports `message(firstLine)` when it was seen before.
    func checkUnique<Key: Hashable>(
        _ key: Key,
        line: Int,
        in seen: inout [Key: Int],
        message: (_ firstLine: Int) -> String
    ) {
        if let firstLine = seen[key] {
            report(message(firstLine), line: line)
        } else {
            seen[key] = line
        }
    }

    /// Starts reading `table`, reporting at once every key that is not in `keys`.
    func reader(for table: TOMLTable, named name: String, keys: [String]) -> TableReader {
        for entry in table.entries where !keys.contains(entry.key) {
            report(
                "unknown key '\(entry.key)' in \(name)",
                line: entry.line,
                suggestion: Self.closest(to: entry.key, among: keys).map { "did you mean '\($0)'?" }
                    ?? "known keys are \(keys.map { "'\($0)'" }.joined(separator: ", "))"
            )
        }
        return TableReader(table: table, name: name, decoder: self)
    }

    /// The known key a typo most plausibly meant: within a third of its length in edit
    /// distance (at least 2), ignoring case, `_` and `-`.
    private static func closest(to key: String, among keys: [String]) -> String? {
        func normalised(_ text: String) -> [Character] {
            Array(text.lowercased().filter { $0 != "_" && $0 != "-" })
        }
        let typed = normalised(key)
        let scored = keys.map { ($0, editDistance(typed, normalised($0))) }
        guard let (best, distance) = scored.min(by: { $0.1 < $1.1 }),
              distance <= max(2, typed.count / 3)
        else { return nil }
        return best
    }

    /// Levenshtein distance between two short strings.
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, characterA) in a.enumerated() {
            var current = [i + 1]
            for (j, characterB) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (characterA == characterB ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

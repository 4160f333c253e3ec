/// The lines of a Windows INF file, read the way SetupAPI reads them ("General Syntax
/// Rules for INF Files"): `[section]` headers, `;` comments outside quotes, `\` at the
/// end of a line continuing it, comma-separated fields, `"quoted"` text with `""` for a
/// quote, and `%key%` tokens replaced from the `[Strings]` section (`%%` is a `%`).
///
/// Only what the DSM needs: it exists to pull `MPIOSupportedDeviceList` AddReg lines out
/// of a DSM INF (``SupportedDeviceList/parsing(inf:file:)``).
struct INFFile {
    /// One logical line (continuations joined), split into fields.
    struct Line {
        /// 1-based number of the first physical line.
        var number: Int
        /// Lower-cased name of the section the line sits in ("" before the first header).
        var section: String
        /// The text left of an unquoted `=`, if any (`key = value` lines).
        var key: String?
        /// The comma-separated fields right of the key, unresolved.
        var fields: [Field]
        /// The line's text without its comment, for messages and relevance checks.
        var text: String
        /// Why the line could not be read cleanly (an unterminated quote).
        var problem: String?
    }

    /// One field: unquoted and quoted runs in order (`%KEY%` stays raw until resolved).
    struct Field {
        /// A run of text and whether it was between quotes.
        struct Part {
            var text: String
            var quoted: Bool
        }

        var parts: [Part]
    }

    /// Logical lines that hold something (blank and comment-only lines dropped).
    private(set) var lines: [Line] = []
    /// `[Strings]` keys (lower-cased) to their values.
    private(set) var strings: [String: String] = [:]

    init(_ text: String) {
        var section = ""
        var pending: (number: Int, text: Substring)?
        for (index, physical) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let number = pending?.number ?? index + 1
            var joined = (pending?.text ?? "") + Self.stripComment(physical)
            if joined.last == "\\" {
                joined.removeLast()
                pending = (number, joined[...])
                continue
            }
            pending = nil
            let content = joined.trimmingSpaces
            guard !content.isEmpty else { continue }
            if content.hasPrefix("["), let close = content.firstIndex(of: "]") {
                section = String(content[content.index(after: content.startIndex)..<close]).trimmingSpaces.lowercased()
                continue
            }
            let line = Self.split(content, number: number, section: section)
            if section == "strings", let key = line.key, line.problem == nil {
                strings[key.lowercased()] = line.fields.first.map { $0.parts.map(\.text).joined() } ?? ""
            }
            lines.append(line)
        }
        if let pending {
            lines.append(Line(number: pending.number, section: section, key: nil, fields: [],
                              text: String(pending.text), problem: "the file ends inside a continued line"))
        }
    }

    /// The field's text with unquoted `%key%` tokens replaced from `[Strings]`.
    /// Throws the message for an undefined key or a lone `%`.
    func resolve(_ field: Field) throws(INFFile.ResolveError) -> String {
        var result = ""
        for part in field.parts {
            guard !part.quoted else {
                result += part.text
                continue
            }
            var rest = part.text[...]
            while let open = rest.firstIndex(of: "%") {
                result += rest[..<open]
                let afterOpen = rest.index(after: open)
                guard let close = rest[afterOpen...].firstIndex(of: "%") else {
                    throw ResolveError(message: "unmatched % in \(part.text)")
                }
                let key = rest[afterOpen..<close]
                if key.isEmpty {
                    result += "%"
                } else if let value = strings[key.lowercased()] {
                    result += value
                } else {
                    throw ResolveError(message: "%\(key)% is not defined in [Strings]")
                }
                rest = rest[rest.index(after: close)...]
            }
            result += rest
        }
        return result
    }

    /// A field that names an undefined string key or has an unmatched `%`.
    struct ResolveError: Error {
        var message: String
    }

    /// The physical line up to an unquoted `;`, trailing spaces removed.
    private static func stripComment(_ physical: Substring) -> Substring {
        var quoted = false
        var end = physical.endIndex
        scan: for index in physical.indices {
            switch physical[index] {
            case "\"": quoted.toggle()
            case ";" where !quoted:
                end = index
                break scan
            default: continue
            }
        }
        var kept = physical[..<end]
        while let last = kept.last, last == " " || last == "\t" || last == "\r" { kept.removeLast() }
        return kept
    }

    /// Splits a logical line into an optional `key =` and comma-separated fields.
    private static func split(_ content: String, number: Int, section: String) -> Line {
        var fields: [Field] = []
        var parts: [Field.Part] = []
        var run = ""
        var quoted = false
        var key: String?
        var characters = content[...]

        func endRun() {
            let text = quoted ? run : run.trimmingSpaces
            if quoted || !text.isEmpty { parts.append(Field.Part(text: text, quoted: quoted)) }
            run = ""
        }
        while let character = characters.popFirst() {
            switch character {
            case "\"" where quoted && characters.first == "\"":
                characters.removeFirst()
                run.append("\"")
            case "\"":
                endRun()
                quoted.toggle()
            case "," where !quoted:
                endRun()
                fields.append(Field(parts: parts))
                parts = []
            case "=" where !quoted && key == nil && fields.isEmpty:
                endRun()
                key = parts.map(\.text).joined()
                parts = []
            default:
                run.append(character)
            }
        }
        let problem = quoted ? "unterminated quoted string" : nil
        endRun()
        fields.append(Field(parts: parts))
        return Line(number: number, section: section, key: key, fields: fields, text: content, problem: problem)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (no Foundation needed).
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

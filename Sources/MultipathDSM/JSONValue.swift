/// A JSON document built by hand (RFC 8259), so `swiftport dsm scan --json` needs no
/// Foundation. Objects keep their key order, which keeps output stable and diffable.
package enum JSONValue: Sendable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(UInt64)
    case bool(Bool)
    case null

    /// The text, indented two spaces per level, no trailing newline.
    func rendered(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .object(let members) where members.isEmpty: return "{}"
        case .object(let members):
            let lines = members.map { inner + Self.quoted($0.0) + ": " + $0.1.rendered(indent: inner) }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}"
        case .array(let elements) where elements.isEmpty: return "[]"
        case .array(let elements):
            let lines = elements.map { inner + $0.rendered(indent: inner) }
            return "[\n" + lines.joined(separator: ",\n") + "\n" + indent + "]"
        case .string(let text): return Self.quoted(text)
        case .number(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        }
    }

    /// A JSON string literal: quote, backslash and control characters escaped (RFC 8259 §7).
    package static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let control where control.value < 0x20:
                let digits = Array("0123456789abcdef")
                result += "\\u00" + String([digits[Int(control.value >> 4)], digits[Int(control.value & 0xF)]])
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

import Testing

@testable import DaemonConfiguration

/// The TOML subset parser: each construct, and each syntax error with its line.
@Suite("TOMLDocument")
struct TOMLDocumentTests {
    private func parse(_ text: String) throws -> TOMLTable {
        try TOMLDocument(parsing: text, file: "t.toml").root
    }

    /// The error for `text`, or nil if it parses.
    private func parseError(_ text: String) -> ConfigurationError? {
        do {
            _ = try TOMLDocument(parsing: text, file: "t.toml")
            return nil
        } catch {
            return error
        }
    }

    private func table(_ value: TOMLValue?) -> TOMLTable? {
        guard case .table(let table)? = value?.kind else { return nil }
        return table
    }

    @Test func commentsAndBlankLinesAreIgnored() throws {
        let root = try parse("# header\n\n  # indented\na = 1 # trailing\r\nb = true\n")
        #expect(root.entries.map(\.key) == ["a", "b"])
        #expect(root["a"]?.value == TOMLValue(.integer(1), line: 4))
        #expect(root["b"]?.value == TOMLValue(.boolean(true), line: 5))
    }

    @Test func bareQuotedAndDottedKeys() throws {
        let root = try parse(#"bare-key_1 = 1"# + "\n" + #""quoted key" = 2"# + "\n" + #"'lit' = 3"# + "\n" + #"a . b."c d" = 4"#)
        #expect(root["bare-key_1"] != nil)
        #expect(root["quoted key"]?.value.kind == .integer(2))
        #expect(root["lit"]?.value.kind == .integer(3))
        let a = table(root["a"]?.value)
        let b = table(a?["b"]?.value)
        #expect(b?["c d"]?.value == TOMLValue(.integer(4), line: 4))
        #expect(root["a"]?.line == 4)
    }

    @Test func tablesAndSubtables() throws {
        let root = try parse("[daemon]\nx = 1\n\n[daemon.iscsi]\ny = 2\n[other]\n")
        let daemon = try #require(table(root["daemon"]?.value))
        #expect(daemon.line == 1)
        #expect(daemon["x"]?.value.kind == .integer(1))
        let iscsi = try #require(table(daemon["iscsi"]?.value))
        #expect(iscsi.line == 4)
        #expect(iscsi["y"]?.value == TOMLValue(.integer(2), line: 5))
        #expect(table(root["other"]?.value)?.entries.isEmpty == true)
    }

    @Test func implicitTableDefinedLater() throws {
        let root = try parse("[a.b]\nx = 1\n[a]\ny = 2\n")
        let a = try #require(table(root["a"]?.value))
        #expect(a.line == 3)
        #expect(a["y"] != nil)
        #expect(table(a["b"]?.value)?["x"] != nil)
    }

    @Test func nestedArraysOfTables() throws {
        let root = try parse("""
            [[target]]
            name = "one"
            [[target.lun]]
            id = 0
            [[target.lun]]
            id = 1
            [target.auth]
            username = "u"
            [[target]]
            name = "two"
            [[target.lun]]
            id = 5
            """)
        guard case .array(let targets)? = root["target"]?.value.kind else {
            Issue.record("target is not an array")
            return
        }
        #expect(targets.map(\.line) == [1, 9])
        let first = try #require(table(targets[0]))
        guard case .array(let luns)? = first["lun"]?.value.kind else {
            Issue.record("lun is not an array")
            return
        }
        #expect(luns.map(\.line) == [3, 5])
        #expect(table(luns[1])?["id"]?.value == TOMLValue(.integer(1), line: 6))
        #expect(table(first["auth"]?.value)?["username"]?.value.kind == .string("u"))
        let second = try #require(table(targets[1]))
        guard case .array(let secondLUNs)? = second["lun"]?.value.kind else {
            Issue.record("lun is not an array")
            return
        }
        #expect(secondLUNs.count == 1)
    }

    @Test func basicStringEscapes() throws {
        let root = try parse(#"s = "tab\there \"q\" back\\slash \u00E9 \U0001F600 nl\n""#)
        #expect(root["s"]?.value.kind == .string("tab\there \"q\" back\\slash é 😀 nl\n"))
    }

    @Test func literalStringsKeepBackslashes() throws {
        let root = try parse(#"p = 'C:\path\n'"#)
        #expect(root["p"]?.value.kind == .string(#"C:\path\n"#))
    }

    @Test(arguments: [
        ("42", Int64(42)), ("+7", 7), ("-17", -17), ("0", 0), ("1_000_000", 1_000_000),
        ("0xDEAD_beef", 0xDEAD_BEEF), ("0o755", 0o755), ("0b1010", 10),
        ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
    ])
    func integers(text: String, value: Int64) throws {
        #expect(try parse("n = \(text)")["n"]?.value.kind == .integer(value))
    }

    @Test func booleans() throws {
        let root = try parse("t = true\nf = false")
        #expect(root["t"]?.value.kind == .boolean(true))
        #expect(root["f"]?.value.kind == .boolean(false))
    }

    @Test func multiLineArraysWithCommentsAndTrailingComma() throws {
        let root = try parse("""
            a = [
                "x", # first
                "y",

                [1, 2],
            ]
            e = []
            """)
        guard case .array(let elements)? = root["a"]?.value.kind else {
            Issue.record("a is not an array")
            return
        }
        #expect(elements.map(\.line) == [2, 3, 5])
        #expect(elements[0].kind == .string("x"))
        #expect(elements[2].kind == .array([TOMLValue(.integer(1), line: 5), TOMLValue(.integer(2), line: 5)]))
        #expect(root["e"]?.value.kind == .array([]))
    }

    @Test func inlineTables() throws {
        let root = try parse(#"auth = { username = "u", secret.value = "s" }"# + "\nempty = {}")
        let auth = try #require(table(root["auth"]?.value))
        #expect(auth["username"]?.value.kind == .string("u"))
        #expect(table(auth["secret"]?.value)?["value"]?.value.kind == .string("s"))
        #expect(table(root["empty"]?.value)?.entries.isEmpty == true)
    }

    @Test(arguments: [
        // (document, line of the error, fragment of the message)
        ("a = 1\na = 2", 2, "duplicate key 'a' (first defined on line 1)"),
        ("[t]\n[t]", 2, "table [t] is defined twice (first on line 1)"),
        ("[[t]]\n[t]", 2, "[t] is an array of tables"),
        ("[t]\n[[t]]", 2, "[[t]] conflicts with the table [t]"),
        ("a = 1\n[a.b]", 2, "'a' already holds an integer (line 1)"),
        ("t = { x = 1 }\n[t]", 2, "already holds a table"),
        ("t = { x = 1 }\nt.y = 2", 2, "cannot be extended with a dotted key"),
        ("[a.b]\n[a]\nb.c = 1", 3, "cannot be extended with a dotted key"),
        ("\n\nx = 1.5", 3, "floating-point values are not supported"),
        ("x = 1e6", 1, "floating-point values are not supported"),
        ("x = inf", 1, "floating-point values are not supported"),
        ("x = 1979-05-27", 1, "dates and times are not supported"),
        ("x = 07:32:00", 1, "dates and times are not supported"),
        ("x = 012", 1, "leading zeros are not allowed"),
        ("x = 1__0", 1, "underscore"),
        ("x = 9223372036854775808", 1, "does not fit"),
        ("x = -0x10", 1, "a sign is not allowed"),
        ("x = 0o8", 1, "not a valid base-8 integer"),
        ("x = hello", 1, "strings must be quoted"),
        ("x = ", 1, "expected a value"),
        ("x = \"abc", 1, "unterminated string"),
        ("x = 'abc", 1, "unterminated literal string"),
        ("x = \"\"\"a\"\"\"", 1, "multi-line strings"),
        ("x = '''a'''", 1, "multi-line strings"),
        (#"x = "\q""#, 1, "invalid escape"),
        (#"x = "\uD800""#, 1, "\\u escape"),
        ("x = [1,\n2\n3]", 3, "expected ',' or ']'"),
        ("x = [1,\n", 2, "array opened on line 1 is not closed"),
        ("x = { a = 1,\n b = 2 }", 1, "expected a key"),
        ("x = { a = 1 b = 2 }", 1, "expected ',' or '}'"),
        ("x 1", 1, "expected '=' after key 'x'"),
        ("= 1", 1, "expected a key"),
        ("[t\nx = 1", 1, "expected ']' to close the table header"),
        ("[[t]\n", 1, "expected ']]'"),
        ("a = 1 b = 2", 1, "expected the end of the line"),
    ])
    func syntaxErrors(document: String, line: Int, message: String) {
        let error = parseError(document)
        #expect(error?.file == "t.toml")
        #expect(error?.line == line, "\(error?.description ?? "no error")")
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }
}

import DaemonConfiguration
import Foundation
import Logging
import Synchronization
import Testing

@testable import TargetDaemon

/// The daemon's log lines: swift-log's stream format, JSON lines, journald priorities.
@Suite("log lines")
struct DaemonLogHandlerTests {
    /// The lines a handler wrote.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// A logger whose lines land in `lines`.
    static func logger(_ format: DaemonLogHandler.Format, journal: Bool = false, into lines: Lines) -> Logger {
        Logger(label: "swiftportd") { label in
            var handler = DaemonLogHandler(label: label, format: format, journal: journal) { line in lines.append(line) }
            handler.logLevel = .debug
            return handler
        }
    }

    @Test("text: TIME LEVEL LABEL: sorted key=value [SOURCE] message, as swift-log's stream handler")
    func text() throws {
        let lines = Lines()
        var logger = Self.logger(.text, into: lines)
        logger[metadataKey: "target"] = "iqn.x"
        logger.notice("took over", metadata: ["lun": "0"], source: "SCSIEngine")
        logger.info("plain", source: "S")
        let first = try #require(lines.all.first)
        #expect(first.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} notice swiftportd: lun=0 target=iqn.x \[SCSIEngine\] took over\n$"#, options: .regularExpression) != nil, "\(first)")
        #expect(lines.all[1].hasSuffix(" info swiftportd: target=iqn.x [S] plain\n"))
    }

    @Test("json: one object per line, every field a string, quotes and control characters escaped")
    func json() throws {
        let lines = Lines()
        let logger = Self.logger(.json, into: lines)
        logger.error("a \"quoted\"\nline\u{1}", metadata: ["peer": "127.0.0.1:3260", "level": "x"], source: "ISCSITransport")
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == "a \"quoted\"\nline\u{1}")
        #expect(object["level"] == "error" && object["label"] == "swiftportd" && object["source"] == "ISCSITransport")
        #expect(object["peer"] == "127.0.0.1:3260" && object["time"] != nil && object["metadata.level"] == "x")
    }

    @Test("to the journal each line starts with its syslog priority", arguments: [
        (Logger.Level.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func journalPriorities(level: Logger.Level, priority: Int) throws {
        let lines = Lines()
        Self.logger(.text, journal: true, into: lines).log(level: level, "x")
        #expect(try #require(lines.all.first).hasPrefix("<\(priority)>"))
        let plain = Lines()
        Self.logger(.json, into: plain).log(level: level, "x")
        #expect(try #require(plain.all.first).hasPrefix("{"))
    }
}

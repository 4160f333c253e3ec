import DaemonConfiguration
import Glibc
import Logging
import MultipathDSM

/// The daemon's log lines on standard error: swift-log's stream format
/// (`TIME LEVEL LABEL: key=value [SOURCE] message`) or, with `log_format = "json"`, one
/// JSON object per line. When standard error goes to the journal (systemd sets
/// `JOURNAL_STREAM`), each line starts with its syslog priority, `<3>` for an error,
/// as sd-daemon(3) prescribes, so `journalctl -p` and the colours follow the level.
public struct DaemonLogHandler: LogHandler {
    public typealias Format = DaemonSettings.LogFormat

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: Format
    let journal: Bool
    let write: @Sendable (String) -> Void

    /// A handler writing to standard error; `journal`: to the journal, from the process's
    /// environment by default.
    public init(label: String, format: Format, journal: Bool = DaemonLogHandler.standardErrorIsJournal) {
        self.init(label: label, format: format, journal: journal) { line in
            // One write(2) per line: lines from several threads do not interleave.
            var line = line
            line.withUTF8 { bytes in _ = Glibc.write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
        }
    }

    init(label: String, format: Format, journal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.format = format
        self.journal = journal
        self.write = write
    }

    /// systemd connected standard error to the journal (`JOURNAL_STREAM` names its
    /// device and inode; a child that inherited only the variable does not count).
    public static var standardErrorIsJournal: Bool {
        guard let text = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = text.split(separator: ":")
        var status = stat()
        guard parts.count == 2, fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(parts[0]) == UInt64(status.st_dev) && UInt64(parts[1]) == UInt64(status.st_ino)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// syslog(3) priorities for the levels.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let time = Self.timestamp()
        let line: String
        switch format {
        case .text:
            let pairs = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(time) \(event.level) \(label):\(pairs.isEmpty ? "" : " " + pairs) [\(event.source)] \(event.message)"
        case .json:
            var fields = [
                ("time", time), ("level", "\(event.level)"), ("label", label), ("source", event.source), ("message", "\(event.message)"),
            ]
            // Metadata beside the fixed fields, renamed where it would repeat one.
            let fixed = Set(fields.map(\.0))
            fields += merged.sorted { $0.key < $1.key }.map { (fixed.contains($0.key) ? "metadata.\($0.key)" : $0.key, "\($0.value)") }
            line = "{" + fields.map { "\(JSONValue.quoted($0.0)):\(JSONValue.quoted($0.1))" }.joined(separator: ",") + "}"
        }
        write((journal ? "<\(Self.priority(event.level))>" : "") + line + "\n")
    }

    /// Local time as swift-log's stream handler writes it (`2026-12-06T22:19:17+0000`).
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Process-wide settings (`[daemon]`) and the iSCSI operational values the target
/// offers in login negotiation (`[daemon.iscsi]`, RFC 7143 §13).
///
/// Defaults are RFC 7143's defaults except where a target has a better-informed choice,
/// noted at each property.
public struct DaemonSettings: Sendable, Equatable {
    /// Log levels, spelled as swift-log's `Logger.Level` raw values.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    /// Digest names of RFC 7143 §13.1.
    public static let digestAlgorithms = ["None", "CRC32C"]
    /// RFC 7143 §13.12-§13.14: data segment and burst lengths are 512 to 2^24 - 1 bytes.
    public static let dataLengthRange = 512...16_777_215

    /// Where persistent state lives (created by the daemon).
    public var stateDirectory = "/var/lib/swiftport"
    /// Unix socket for `swiftport status` and friends (directory created by the daemon).
    public var adminSocketPath = "/run/swiftport/admin.sock"
    /// One of ``logLevels``.
    public var logLevel = "info"
    /// How log lines are written (`log_format`).
    public enum LogFormat: String, Sendable, CaseIterable {
        /// `TIME LEVEL LABEL: key=value [SOURCE] message`, as swift-log's stream handler.
        case text
        /// One JSON object per line, for log shippers.
        case json
    }
    public var logFormat = LogFormat.text
    /// Seconds of idle connection before the target sends a NOP-In ping (RFC 7143 §11.19); 0 = never.
    public var nopInInterval = 30
    /// Seconds to wait for the NOP-Out answer before dropping the connection.
    public var nopInTimeout = 30
    /// Threads that run connections (event loops; a session stays on one); nil = one per
    /// CPU the daemon may use (cgroup limits count). Fewer suits a host that also runs
    /// the initiator: two loops sharing one free core with it keep waking each other
    /// (BENCHMARKS.md, two sessions).
    public var eventLoopThreads: Int?
    /// The range ``eventLoopThreads`` accepts.
    public static let eventLoopThreadRange = 1...1024
    /// MaxRecvDataSegmentLength the target declares (RFC 7143 §13.12). 256 KiB rather than
    /// the RFC's 8 KiB default: fewer PDUs per large I/O, and every initiator handles it.
    public var maxRecvDataSegmentLength = 262_144
    /// MaxBurstLength (RFC 7143 §13.13), the RFC default of 256 KiB raised to 1 MiB so a
    /// 1 MiB write needs a single R2T.
    public var maxBurstLength = 1_048_576
    /// FirstBurstLength (RFC 7143 §13.14), the RFC default; must not exceed MaxBurstLength.
    public var firstBurstLength = 262_144
    /// ImmediateData (RFC 7143 §13.11), RFC default Yes.
    public var immediateData = true
    /// InitialR2T (RFC 7143 §13.10): No lets unsolicited data flow, saving a round trip.
    public var initialR2T = false
    /// MaxOutstandingR2T (RFC 7143 §13.17), RFC default 1.
    public var maxOutstandingR2T = 1
    /// HeaderDigest values the target accepts, in preference order. The target only
    /// answers initiator proposals (it picks the first value of the initiator's list that
    /// it accepts, RFC 7143 §6.2), so in practice this is the accepted set.
    public var headerDigest = ["None", "CRC32C"]
    /// DataDigest values the target accepts, as for ``headerDigest``.
    public var dataDigest = ["None", "CRC32C"]

    public init() {}
}

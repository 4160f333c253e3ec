/// The state of one path as MPIO shows it.
public enum PathState: String, Hashable, Sendable, CustomStringConvertible {
    /// Reaches the LU through a port that serves I/O: eligible for selection.
    case active
    /// Reaches the LU, but its ALUA state (standby, unavailable, offline, transitioning)
    /// refuses media access: kept for failover, checked, not used for I/O.
    case standby
    /// Transport error or failed check: no I/O until the checker finds it healthy.
    case failed
    /// Gone (session logged out, path deleted): neither used nor checked.
    case removed

    public var description: String { rawValue }
}

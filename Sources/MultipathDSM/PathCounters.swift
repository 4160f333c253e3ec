/// Per-path statistics (`Get-MSDSMPathStatistics`-like) and outstanding I/O.
public struct PathCounters: Hashable, Sendable {
    /// I/Os sent down the path.
    public var ios: UInt64 = 0
    /// Blocks those I/Os carried.
    public var blocks: UInt64 = 0
    /// I/Os that ended in a transport error or path-related sense on this path.
    public var errors: UInt64 = 0
    /// I/Os moved off this path to another one after such an error.
    public var failovers: UInt64 = 0
    /// I/Os begun and not yet ended (Least Queue Depth's measure).
    public var outstandingIOs: UInt64 = 0
    /// Blocks of those I/Os (Least Blocks' measure).
    public var outstandingBlocks: UInt64 = 0

    public init() {}
}

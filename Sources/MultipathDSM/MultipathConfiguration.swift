/// Per-device DSM settings (the `[dsm]` table of the config, or per-device overrides).
public struct MultipathConfiguration: Hashable, Sendable {
    /// Round Robin with Subset is MSDSM's default for ALUA storage and behaves as
    /// Round Robin on storage without ALUA.
    public var policy: LoadBalancePolicy
    public var failback: FailbackPolicy
    public var noPathRetry: NoPathRetry
    /// How often each path gets a TEST UNIT READY from the path checker.
    public var checkerInterval: Duration
    /// How a failed path is tried again: its checks (and log-ins, when the session is
    /// gone) follow this schedule instead of ``checkerInterval``.
    public var reconnect: ReconnectBackoff

    public init(
        policy: LoadBalancePolicy = .roundRobinWithSubset,
        failback: FailbackPolicy = .immediate,
        noPathRetry: NoPathRetry = .queue(for: .seconds(30)),
        checkerInterval: Duration = .seconds(5),
        reconnect: ReconnectBackoff = .standard
    ) {
        self.policy = policy
        self.failback = failback
        self.noPathRetry = noPathRetry
        self.checkerInterval = checkerInterval
        self.reconnect = reconnect
    }
}

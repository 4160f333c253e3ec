/// How a device spreads I/O over its usable paths, with MSDSM's policy names
/// (ARCHITECTURE.md §4; `mpclaim -l -d` / `Set-MSDSMGlobalDefaultLoadBalancePolicy`).
///
/// Every policy is one row of ``LoadBalancePolicy/rule``: rank the usable paths, keep
/// the best-ranked ones, then spread I/O among them. The same ranking decides failback
/// (a recovered path that outranks the ones in use is the "preferred" path coming back).
public enum LoadBalancePolicy: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case failOverOnly = "FOO"
    case roundRobin = "RR"
    case roundRobinWithSubset = "RRWS"
    case leastQueueDepth = "LQD"
    case weightedPaths = "WP"
    case leastBlocks = "LB"

    /// A ranking key; lower ranks better.
    enum RankKey: Hashable, Sendable {
        /// Admin-preferred path or ALUA PREF bit first.
        case preferred
        /// ALUA active/optimized (or no ALUA at all) before active/non-optimized.
        case aluaAccess
        /// Admin weight, lowest first; unweighted paths last.
        case weight
        /// Discovery order: makes the ranking total, so one path wins.
        case order
    }

    /// How I/O is spread among the equally best-ranked paths.
    enum Spread: Hashable, Sendable {
        /// The single best path (rankings that end in ``RankKey/order``).
        case single
        /// Each I/O to the next path after the last one chosen.
        case roundRobin
        /// Fewest outstanding commands; ties go round robin.
        case fewestOutstandingIOs
        /// Fewest outstanding blocks; ties go round robin.
        case fewestOutstandingBlocks
    }

    /// The policy table.
    var rule: (ranking: [RankKey], spread: Spread) {
        switch self {
        case .failOverOnly: ([.preferred, .aluaAccess, .order], .single)
        case .roundRobin: ([], .roundRobin)
        case .roundRobinWithSubset: ([.aluaAccess], .roundRobin)
        case .leastQueueDepth: ([], .fewestOutstandingIOs)
        case .weightedPaths: ([.weight, .order], .single)
        case .leastBlocks: ([], .fewestOutstandingBlocks)
        }
    }

    /// MSDSM's display name.
    public var msdsmName: String {
        switch self {
        case .failOverOnly: "Fail Over Only"
        case .roundRobin: "Round Robin"
        case .roundRobinWithSubset: "Round Robin with Subset"
        case .leastQueueDepth: "Least Queue Depth"
        case .weightedPaths: "Weighted Paths"
        case .leastBlocks: "Least Blocks"
        }
    }

    public var description: String { msdsmName }
}

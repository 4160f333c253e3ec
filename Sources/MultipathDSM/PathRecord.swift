import SCSIProtocol

/// What a ``MultipathDevice`` keeps about one of its paths.
struct PathRecord<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Whether the path reaches the LU at all (ALUA decides the rest).
    enum Reachability: Hashable, Sendable {
        case reachable
        case failed
        case removed
    }

    var identity: PathIdentity
    var reachability: Reachability = .reachable
    /// Latest ALUA state, from REPORT TARGET PORT GROUPS or from sense.
    var aluaState: AsymmetricAccessState?
    var aluaPreferred: Bool
    var adminPreferred = false
    var weight: UInt32?
    /// Set while failback holds a recovered path back: when it recovered.
    var heldSince: Instant?
    /// When the checker was last asked to test the path.
    var lastCheckIssued: Instant?
    /// Failed retries since the path failed: the exponent of ``ReconnectBackoff``.
    var reconnectAttempts = 0
    /// While the path is failed and no retry is under way: when the checker may try it
    /// (and log in again) next.
    var retryAt: Instant?
    var counters = PathCounters()

    init(_ identity: PathIdentity) {
        self.identity = identity
        self.aluaState = identity.targetPortGroup?.state
        self.aluaPreferred = identity.targetPortGroup?.preferred ?? false
    }

    var id: PathID { identity.pathID }

    var state: PathState {
        switch reachability {
        case .removed: .removed
        case .failed: .failed
        case .reachable: aluaState?.servesIO == false ? .standby : .active
        }
    }

    /// Active and not held back by failback: the policy may pick it.
    var isEligible: Bool { state == .active && heldSince == nil }

    var status: PathStatus {
        PathStatus(
            pathID: id,
            portal: identity.portal,
            state: state,
            targetPortGroup: identity.targetPortGroup.map {
                TargetPortGroupStatus(groupID: $0.groupID, state: aluaState ?? $0.state, preferred: aluaPreferred)
            },
            aluaState: aluaState,
            adminPreferred: adminPreferred,
            weight: weight,
            failbackPending: heldSince != nil,
            counters: counters
        )
    }

    /// The path's rank under a policy's ranking keys; lexicographically lower is better.
    func rank(_ keys: [LoadBalancePolicy.RankKey], position: Int) -> [UInt64] {
        keys.map { key in
            switch key {
            case .preferred: adminPreferred || aluaPreferred ? 0 : 1
            case .aluaAccess: aluaState == nil || aluaState == .activeOptimized ? 0 : 1
            case .weight: weight.map(UInt64.init) ?? UInt64(UInt32.max) + 1
            case .order: UInt64(position)
            }
        }
    }
}

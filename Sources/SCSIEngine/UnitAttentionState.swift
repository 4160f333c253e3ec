import SCSIProtocol

/// Unit attention bookkeeping of one logical unit (SAM-5 §5.14, SPC-4 §5.14).
///
/// Conditions are kept per I_T nexus, oldest first, and reported one per command.
/// An I_T nexus the logical unit has never seen since the daemon started is owed
/// POWER ON, RESET, OR BUS DEVICE RESET OCCURRED; it gets that once, on first contact.
struct UnitAttentionState: Sendable {
    private var knownNexuses: Set<ITNexus> = []
    private var pending: [ITNexus: [SenseCondition]] = [:]
    /// The nexus registered last: a session's commands come back to back, and comparing
    /// with it is cheaper than hashing the initiator port name into the set each time.
    private var lastRegistered: ITNexus?

    /// Records `nexus`, establishing the power-on condition if it is new.
    mutating func register(_ nexus: ITNexus) {
        if nexus == lastRegistered { return }
        if knownNexuses.insert(nexus).inserted {
            pending[nexus, default: []].append(.powerOnResetOrBusDeviceResetOccurred)
        }
        lastRegistered = nexus
    }

    /// Establishes `condition` for every known nexus except `excluded`. A condition
    /// already queued for a nexus is not queued twice.
    mutating func establish(_ condition: SenseCondition, except excluded: ITNexus?) {
        establish(condition) { $0 != excluded }
    }

    /// Establishes `condition` for every known nexus `selected` picks, such as the
    /// nexuses of the registrants a persistent reservation change affects (SPC-4
    /// §5.12.11). A nexus the logical unit has not seen yet is owed the power-on
    /// condition, which covers this one.
    mutating func establish(_ condition: SenseCondition, for selected: (ITNexus) -> Bool) {
        for nexus in knownNexuses where selected(nexus) {
            if pending[nexus, default: []].contains(condition) == false {
                pending[nexus, default: []].append(condition)
            }
        }
    }

    /// Reports and clears the oldest condition pending for `nexus` (SAM-5 §5.14:
    /// reported once, then cleared).
    mutating func take(for nexus: ITNexus) -> SenseCondition? {
        register(nexus)
        // Nothing pending anywhere is the usual case: no second hash of the nexus.
        guard !pending.isEmpty, var queue = pending[nexus], queue.isEmpty == false else { return nil }
        let first = queue.removeFirst()
        pending[nexus] = queue.isEmpty ? nil : queue
        return first
    }

    /// Back to the power-on state: every nexus will be owed a power-on condition
    /// again (TARGET COLD RESET, RFC 7143 §11.5.1).
    mutating func forgetAllNexuses() {
        knownNexuses.removeAll()
        pending.removeAll()
        lastRegistered = nil
    }
}

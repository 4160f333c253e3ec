/// One claimed logical unit and its paths: the DSM's per-device state machine.
///
/// A value that does no I/O and reads no clock (STYLE.md §1): RemoteLUN feeds it
/// events — I/O begun and ended, path checker results, ALUA reports, timer ticks —
/// each with the current instant, and carries out the ``DeviceAction``s,
/// ``IORoute``s and ``IOCompletion``s it returns. Generic over the instant type so
/// production uses `ContinuousClock.Instant` and tests a hand-driven one.
///
/// Path selection follows ``MultipathConfiguration/policy``; failback follows
/// ``MultipathConfiguration/failback``; with no usable path, I/O is held or failed
/// according to ``MultipathConfiguration/noPathRetry``.
public struct MultipathDevice<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Whether the device can take I/O.
    enum State: Hashable, Sendable {
        /// At least one path is eligible for selection.
        case serving
        /// No usable path: I/O is held until a path returns or `deadline` passes (nil:
        /// held indefinitely).
        case queueing(deadline: Instant?)
        /// No usable path and the no-path retry time is spent: I/O fails at once.
        case failing
    }

    public let identity: DeviceIdentity
    /// The supported-device entry that claimed the LU.
    public let claimedBy: SupportedDeviceEntry
    public var configuration: MultipathConfiguration

    var state: State = .serving
    /// Paths in discovery order (the order Weighted Paths and Fail Over Only break ties by).
    var paths: [PathRecord<Instant>]
    /// The last path selection chose: where round robin continues from.
    var lastSelected: PathID?
    /// Where reconnect jitter comes from (``ReconnectBackoff``); injected so tests can
    /// script it.
    var random: any RandomNumberGenerator & Sendable

    /// A device for a claimed LU with all its discovered paths healthy. `random` draws
    /// the jitter of reconnect delays.
    public init(
        _ unit: ClaimedLogicalUnit, configuration: MultipathConfiguration = MultipathConfiguration(), now: Instant,
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.identity = unit.identity
        self.claimedBy = unit.claimedBy
        self.configuration = configuration
        self.paths = unit.paths.map(PathRecord.init)
        self.random = random
        _ = reconcile(now: now)
    }

    // MARK: Topology

    /// Adds a newly discovered path (or brings back a removed one with the same id).
    /// Throws when the path's identity differs from the device's.
    public mutating func addPath(_ path: PathIdentity, now: Instant) throws(MultipathDSMError) -> [DeviceAction] {
        guard DeviceIdentity(of: path) == identity else {
            throw MultipathDSMError(.identityMismatch,
                message: "\(path.pathID) at \(path.portal) does not lead to \(identity)")
        }
        if let index = index(of: path.pathID) {
            var record = PathRecord<Instant>(path)
            record.counters = paths[index].counters
            record.weight = paths[index].weight
            record.adminPreferred = paths[index].adminPreferred
            record.reachability = paths[index].reachability
            paths[index] = record
            recover(at: index, now: now)
        } else {
            paths.append(PathRecord(path))
        }
        return reconcile(now: now)
    }

    /// Takes a path out (its session is gone). Outstanding I/O on it can still end.
    public mutating func removePath(_ id: PathID, now: Instant) -> [DeviceAction] {
        guard let index = index(of: id) else { return [] }
        paths[index].reachability = .removed
        paths[index].heldSince = nil
        paths[index].retryAt = nil
        return reconcile(now: now)
    }

    // MARK: Administration

    /// Sets a Weighted Paths weight (nil: unweighted, ranked after every weighted path).
    public mutating func setWeight(_ weight: UInt32?, for id: PathID) {
        guard let index = index(of: id) else { return }
        paths[index].weight = weight
    }

    /// Makes `id` the administrator's preferred path (nil: none), as Fail Over Only's primary.
    public mutating func setPreferredPath(_ id: PathID?) {
        for index in paths.indices {
            paths[index].adminPreferred = paths[index].id == id
        }
    }

    /// Manual failback: lets every recovered path that failback held back carry I/O again.
    public mutating func failback() {
        for index in paths.indices {
            paths[index].heldSince = nil
        }
    }

    // MARK: Observation

    /// A snapshot for rendering (`swiftport dsm scan`) and metrics.
    public var status: DeviceStatus {
        let first = paths.first?.identity
        let availability: DeviceStatus.Availability = switch state {
        case .serving: .serving
        case .queueing: .queueing
        case .failing: .failing
        }
        return DeviceStatus(
            identity: identity, claimedBy: claimedBy,
            vendor: first?.vendor.trimmingSpaces ?? "", product: first?.product.trimmingSpaces ?? "",
            revision: first?.revision.trimmingSpaces ?? "",
            configuration: configuration, availability: availability, paths: paths.map(\.status)
        )
    }

    /// The state of one path, nil for an unknown id.
    public func state(of id: PathID) -> PathState? { index(of: id).map { paths[$0].state } }

    /// The counters of one path, nil for an unknown id.
    public func counters(of id: PathID) -> PathCounters? { index(of: id).map { paths[$0].counters } }

    /// The next instant at which ``tick(now:)`` has work: the no-path deadline or a timed
    /// failback. Nil when nothing is pending; the checker has its own schedule.
    public var nextDeadline: Instant? {
        var deadlines: [Instant] = []
        if case .queueing(let deadline?) = state { deadlines.append(deadline) }
        if case .after(let delay) = configuration.failback {
            deadlines += paths.compactMap { $0.heldSince?.advanced(by: delay) }
        }
        return deadlines.min()
    }

    /// The earliest instant, not before `now`, at which ``pathsDueForCheck(now:)`` has a
    /// path to hand out: a path's next checker round, or a failed path's next retry
    /// (``ReconnectBackoff``). Nil when every path is removed.
    public func nextCheck(now: Instant) -> Instant? {
        paths.indices.compactMap { index -> Instant? in
            guard paths[index].reachability != .removed else { return nil }
            guard let due = dueInstant(of: index) else { return now }
            return max(due, now)
        }.min()
    }

    /// When a failed path is tried next; nil while it is healthy or a retry is under way.
    public func nextRetry(of id: PathID) -> Instant? { index(of: id).flatMap { paths[$0].retryAt } }

    func index(of id: PathID) -> Int? { paths.firstIndex { $0.id == id } }
}

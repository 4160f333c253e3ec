extension MultipathDevice {
    /// The policy's choice for the next I/O, or nil when no path is eligible.
    ///
    /// Ranks the eligible paths by the policy's keys, keeps the best-ranked, and spreads
    /// among them (``LoadBalancePolicy/rule``). Mutating because round robin and the
    /// least-load tie-break continue from the last choice.
    public mutating func selectPath() -> PathID? {
        let (ranking, spread) = configuration.policy.rule
        let eligible = paths.enumerated().filter { $0.element.isEligible }
        let ranked = eligible.map { (position: $0.offset, rank: $0.element.rank(ranking, position: $0.offset)) }
        guard let best = ranked.map(\.rank).min(by: { $0.lexicographicallyPrecedes($1) }) else { return nil }
        let candidates = ranked.filter { $0.rank == best }.map(\.position)

        // Candidates in round-robin order: those after the last choice first, then wrap.
        let previous = lastSelected.flatMap(index(of:)) ?? -1
        let rotated = candidates.filter { $0 > previous } + candidates.filter { $0 <= previous }
        let chosen: Int = switch spread {
        case .single, .roundRobin: rotated[0]
        case .fewestOutstandingIOs: rotated.min { paths[$0].counters.outstandingIOs < paths[$1].counters.outstandingIOs }!
        case .fewestOutstandingBlocks:
            rotated.min { paths[$0].counters.outstandingBlocks < paths[$1].counters.outstandingBlocks }!
        }
        lastSelected = paths[chosen].id
        return lastSelected
    }

    /// Where a new I/O goes: a path, the no-path queue, or failure.
    public mutating func route() -> IORoute {
        if let path = selectPath() { return .send(path) }
        return switch state {
        case .serving, .queueing: .queue
        case .failing: .fail(noPathError)
        }
    }

    /// Accounts an I/O of `blocks` blocks sent down `path` (after ``route()`` or a retry).
    public mutating func beginIO(path: PathID, blocks: UInt64) {
        guard let index = index(of: path) else { preconditionFailure("beginIO on \(path), which this device never had") }
        paths[index].counters.ios += 1
        paths[index].counters.blocks += blocks
        paths[index].counters.outstandingIOs += 1
        paths[index].counters.outstandingBlocks += blocks
    }

    /// Accounts the end of an I/O begun on `path` and decides its fate: complete it, or
    /// — after a path failure — retry it on the path the policy picks now, hold it, or
    /// fail it. Path failures found here change the path's state as
    /// ``handle(_:on:now:)`` would.
    public mutating func endIO(path: PathID, blocks: UInt64, outcome: IOOutcome, now: Instant) -> IOCompletion {
        guard let index = index(of: path) else { preconditionFailure("endIO on \(path), which this device never had") }
        paths[index].counters.outstandingIOs -= min(1, paths[index].counters.outstandingIOs)
        paths[index].counters.outstandingBlocks -= min(blocks, paths[index].counters.outstandingBlocks)

        let event: PathEvent
        switch outcome {
        case .completed:
            return IOCompletion(.complete)
        case .transportError:
            event = .transportError
        case .checkCondition(let sense):
            switch PathSenseMeaning(sense) {
            case .notPathRelated: return IOCompletion(.complete)
            case .retry: return IOCompletion(reroute(from: index, failed: false))
            case .aluaStateChanged, .portInaccessible, .pathNotReady: event = .sense(sense)
            }
        }
        let actions = handle(event, on: path, now: now)
        let failed = paths[index].state != .active
        if failed { paths[index].counters.errors += 1 }
        return IOCompletion(reroute(from: index, failed: failed), actions: actions)
    }

    /// The retry decision after a failure on the path at `index`.
    private mutating func reroute(from index: Int, failed: Bool) -> IOCompletion.Disposition {
        guard let next = selectPath() else {
            if case .failing = state { return .fail(noPathError) }
            return .queue
        }
        if failed, next != paths[index].id { paths[index].counters.failovers += 1 }
        return .retry(next)
    }

    /// The error held or new I/O fails with once no-path retry is over.
    var noPathError: MultipathDSMError {
        MultipathDSMError(.noPathAvailable,
            message: "no usable path to \(identity) (no_path_retry \(configuration.noPathRetry)); failing I/O")
    }
}

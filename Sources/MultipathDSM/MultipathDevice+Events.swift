import SCSIProtocol

extension MultipathDevice {
    /// Applies evidence about a path — a transport failure, path-related sense, a path
    /// checker result — and returns the work it causes.
    ///
    /// Failing paths leave selection at once; a failed path comes back only through the
    /// checker (and then only as the failback policy allows); ALUA sense records the
    /// port's state and asks for a fresh REPORT TARGET PORT GROUPS when it changed.
    public mutating func handle(_ event: PathEvent, on id: PathID, now: Instant) -> [DeviceAction] {
        guard let index = index(of: id), paths[index].reachability != .removed else { return [] }
        var actions: [DeviceAction] = []
        switch event {
        case .transportError:
            markFailed(at: index, now: now, byRetry: false)
        case .checked(.unreachable):
            markFailed(at: index, now: now, byRetry: true)
        case .sense(let sense):
            switch PathSenseMeaning(sense) {
            case .notPathRelated, .retry: break
            case .aluaStateChanged: actions.append(.refreshALUA(via: id))
            case .portInaccessible(let state): actions += recordALUAState(state, at: index)
            case .pathNotReady: markFailed(at: index, now: now, byRetry: false)
            }
        case .checked(.ready):
            recover(at: index, now: now)
            if paths[index].aluaState?.servesIO == false {
                // TEST UNIT READY works: the recorded inaccessible state is stale.
                if paths[index].identity.targetPortGroup == nil {
                    paths[index].aluaState = nil
                } else {
                    actions.append(.refreshALUA(via: id))
                }
            }
        case .checked(.sense(let sense)):
            switch PathSenseMeaning(sense) {
            case .notPathRelated, .retry:
                recover(at: index, now: now)
            case .aluaStateChanged:
                recover(at: index, now: now)
                actions.append(.refreshALUA(via: id))
            case .portInaccessible(let state):
                recover(at: index, now: now)
                actions += recordALUAState(state, at: index)
            case .pathNotReady:
                markFailed(at: index, now: now, byRetry: true)
            }
        }
        return actions + reconcile(now: now)
    }

    /// Applies a REPORT TARGET PORT GROUPS answer to every path in the reported groups.
    public mutating func updateALUA(_ groups: [TargetPortGroupStatus], now: Instant) -> [DeviceAction] {
        for group in groups {
            for index in paths.indices where paths[index].identity.targetPortGroup?.groupID == group.groupID {
                paths[index].aluaState = group.state
                paths[index].aluaPreferred = group.preferred
            }
        }
        return reconcile(now: now)
    }

    /// The paths whose TEST UNIT READY is due, marked as issued: send one down each (log
    /// in first when its session is gone) and report the result with
    /// ``PathEvent/checked(_:)``. Healthy paths are due once per checker interval; a
    /// failed path when its ``ReconnectBackoff`` delay has passed. Removed paths are never
    /// checked.
    public mutating func pathsDueForCheck(now: Instant) -> [PathID] {
        var due: [PathID] = []
        for index in paths.indices where paths[index].reachability != .removed {
            if let instant = dueInstant(of: index), now < instant { continue }
            paths[index].lastCheckIssued = now
            // The retry is under way; its result schedules the next one.
            paths[index].retryAt = nil
            due.append(paths[index].id)
        }
        return due
    }

    /// When the path at `index` is next due for a check; nil when it is due at once.
    func dueInstant(of index: Int) -> Instant? {
        if paths[index].reachability == .failed, let retryAt = paths[index].retryAt { return retryAt }
        // Healthy, or a failed path whose retry is under way (its result is overdue after
        // one checker interval, and the path is then tried again).
        return paths[index].lastCheckIssued?.advanced(by: configuration.checkerInterval)
    }

    /// Runs the timers: timed failback and the no-path deadline. Call it at
    /// ``nextDeadline`` (or periodically).
    public mutating func tick(now: Instant) -> [DeviceAction] {
        reconcile(now: now)
    }

    // MARK: Transitions

    /// Marks a path failed and schedules its next retry. `byRetry`: the evidence is a
    /// check (a retry) that failed, which moves the backoff one step; evidence from I/O
    /// on a path already failed (other commands that were in flight) changes nothing.
    private mutating func markFailed(at index: Int, now: Instant, byRetry: Bool) {
        let wasFailed = paths[index].reachability == .failed
        paths[index].reachability = .failed
        paths[index].heldSince = nil
        if !wasFailed {
            paths[index].reconnectAttempts = 0
        } else if !byRetry {
            return
        }
        let delay = configuration.reconnect.delay(attempt: paths[index].reconnectAttempts, using: &random)
        paths[index].retryAt = now.advanced(by: delay)
        paths[index].reconnectAttempts += 1
    }

    /// The path answered: it is reachable. When it was not before and it outranks every
    /// path carrying I/O, failback decides whether it takes over now.
    mutating func recover(at index: Int, now: Instant) {
        // Back up: the next failure starts the backoff from its initial delay again.
        paths[index].reconnectAttempts = 0
        paths[index].retryAt = nil
        guard paths[index].reachability != .reachable else { return }
        paths[index].reachability = .reachable
        guard configuration.failback != .immediate, paths[index].state == .active else { return }
        let ranking = configuration.policy.rule.ranking
        let rank = paths[index].rank(ranking, position: index)
        let outranksEligible = paths.indices.contains { other in
            paths[other].isEligible && rank.lexicographicallyPrecedes(paths[other].rank(ranking, position: other))
        }
        if outranksEligible { paths[index].heldSince = now }
    }

    /// Records an ALUA state learned from sense; asks for a refresh when it is news.
    private mutating func recordALUAState(_ state: AsymmetricAccessState, at index: Int) -> [DeviceAction] {
        guard paths[index].aluaState != state else { return [] }
        paths[index].aluaState = state
        return [.refreshALUA(via: paths[index].id)]
    }

    /// Brings the device state in line with its paths after any change: releases held
    /// paths whose time has come (or that are all that is left), starts or ends the
    /// no-path queue, and fails held I/O when its time is up.
    mutating func reconcile(now: Instant) -> [DeviceAction] {
        if case .after(let delay) = configuration.failback {
            for index in paths.indices {
                if let held = paths[index].heldSince, held.advanced(by: delay) <= now { paths[index].heldSince = nil }
            }
        }
        if !paths.contains(where: \.isEligible) {
            failback()
        }
        let usable = paths.contains(where: \.isEligible)
        switch (state, usable) {
        case (.serving, false):
            switch configuration.noPathRetry {
            case .fail: state = .failing
            case .queue(let duration): state = .queueing(deadline: now.advanced(by: duration))
            case .queueIndefinitely: state = .queueing(deadline: nil)
            }
            return []
        case (.queueing(let deadline?), false) where deadline <= now:
            state = .failing
            return [.failQueuedIO(noPathError)]
        case (.queueing, true):
            state = .serving
            return [.resumeQueuedIO]
        case (.failing, true):
            state = .serving
            return []
        case (.serving, true), (.queueing, false), (.failing, false):
            return []
        }
    }
}

import NIOConcurrencyHelpers

/// Orders the commands of one logical unit: ordinary commands pass shared and run
/// concurrently; the read-modify-write commands (COMPARE AND WRITE, SBC-3 §5.2;
/// ORWRITE, SBC-3 §5.10) and PERSISTENT RESERVE OUT pass exclusive, so nothing else
/// on the logical unit runs while they do. That is what makes COMPARE AND WRITE atomic
/// "with respect to all other commands" (SBC-3 §4.24).
///
/// Waiters are served first come, first served, so a stream of shared commands cannot
/// starve an exclusive one. Never blocks a thread: waiting suspends the task.
final class LogicalUnitGate: Sendable {
    /// One task waiting its turn; resumed with true once admitted, false when it was
    /// cancelled first (``enterUnlessCancelled(exclusive:headOfQueue:)`` only).
    private struct Waiter {
        var id: UInt64
        var exclusive: Bool
        var continuation: CheckedContinuation<Bool, Never>
    }

    /// Who is inside and who waits.
    private struct State {
        var sharedHolders = 0
        var exclusiveHeld = false
        var waiting: [Waiter] = []
        var lastWaiterID: UInt64 = 0

        /// Enters at once when nobody waits ahead (or the task is HEAD OF QUEUE) and the
        /// gate admits this kind.
        mutating func tryEnter(exclusive: Bool, headOfQueue: Bool) -> Bool {
            guard waiting.isEmpty || headOfQueue, exclusiveHeld == false, exclusive == false || sharedHolders == 0 else { return false }
            if exclusive { exclusiveHeld = true } else { sharedHolders += 1 }
            return true
        }

        /// Lets in the waiters at the head of the line that the gate now admits.
        mutating func admitWaiters() -> [CheckedContinuation<Bool, Never>] {
            var admitted: [CheckedContinuation<Bool, Never>] = []
            while let next = waiting.first, exclusiveHeld == false {
                if next.exclusive {
                    guard sharedHolders == 0 else { break }
                    exclusiveHeld = true
                } else {
                    sharedHolders += 1
                }
                admitted.append(next.continuation)
                waiting.removeFirst()
            }
            return admitted
        }
    }

    private let state = NIOLockedValueBox(State())

    /// Enters alongside other shared holders, or (`exclusive`) with nothing else
    /// inside; every `enter` is paired with a `leave` (use `defer`). The uncontended
    /// case does not await: every await is followed by a hop back to the caller's
    /// executor, about 600 instructions.
    ///
    /// A HEAD OF QUEUE task (SAM-5 §8.6.4) passes the waiters: it enters at once unless
    /// an exclusive holder is inside, and then waits first in line.
    @inline(__always)
    func enter(exclusive: Bool, headOfQueue: Bool = false) async {
        if !state.withLockedValue({ $0.tryEnter(exclusive: exclusive, headOfQueue: headOfQueue) }) {
            _ = await waitToEnter(exclusive: exclusive, headOfQueue: headOfQueue, cancellable: false)
        }
    }

    /// ``enter(exclusive:headOfQueue:)`` for a command's task, which an abort cancels:
    /// false, without having entered (no `leave` then), when it is cancelled while it
    /// waits. An aborted task so leaves the line at once, and whoever aborted it need
    /// not wait for the holder ahead of it (PREEMPT AND ABORT holds the gate while it
    /// aborts the tasks queued behind it, SPC-4 §5.12.11.2.6).
    @inline(__always)
    func enterUnlessCancelled(exclusive: Bool, headOfQueue: Bool = false) async -> Bool {
        if state.withLockedValue({ $0.tryEnter(exclusive: exclusive, headOfQueue: headOfQueue) }) { return true }
        return await waitToEnter(exclusive: exclusive, headOfQueue: headOfQueue, cancellable: true)
    }

    private func waitToEnter(exclusive: Bool, headOfQueue: Bool, cancellable: Bool) async -> Bool {
        let id = state.withLockedValue { state in
            state.lastWaiterID &+= 1
            return state.lastWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let outcome = state.withLockedValue { state -> Bool? in
                    if state.tryEnter(exclusive: exclusive, headOfQueue: headOfQueue) { return true }
                    if cancellable && Task.isCancelled { return false }
                    state.waiting.insert(
                        Waiter(id: id, exclusive: exclusive, continuation: continuation), at: headOfQueue ? 0 : state.waiting.endIndex)
                    return nil
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        } onCancel: {
            guard cancellable else { return }
            // Out of the line; those behind it may be admitted now.
            let (cancelled, admitted) = state.withLockedValue { state -> (CheckedContinuation<Bool, Never>?, [CheckedContinuation<Bool, Never>]) in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return (nil, []) }
                let cancelled = state.waiting.remove(at: index).continuation
                return (cancelled, state.admitWaiters())
            }
            cancelled?.resume(returning: false)
            for continuation in admitted { continuation.resume(returning: true) }
        }
    }

    func leave(exclusive: Bool) {
        let admitted = state.withLockedValue { state in
            if exclusive { state.exclusiveHeld = false } else { state.sharedHolders -= 1 }
            return state.admitWaiters()
        }
        for continuation in admitted { continuation.resume(returning: true) }
    }
}

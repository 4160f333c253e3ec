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
    /// Who is inside and who waits.
    private struct State {
        var sharedHolders = 0
        var exclusiveHeld = false
        var waiting: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

        /// Enters at once when nobody waits ahead (or the task is HEAD OF QUEUE) and the
        /// gate admits this kind.
        mutating func tryEnter(exclusive: Bool, headOfQueue: Bool) -> Bool {
            guard waiting.isEmpty || headOfQueue, exclusiveHeld == false, exclusive == false || sharedHolders == 0 else { return false }
            if exclusive { exclusiveHeld = true } else { sharedHolders += 1 }
            return true
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
            await waitToEnter(exclusive: exclusive, headOfQueue: headOfQueue)
        }
    }

    private func waitToEnter(exclusive: Bool, headOfQueue: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let entered = state.withLockedValue { state in
                if state.tryEnter(exclusive: exclusive, headOfQueue: headOfQueue) { return true }
                state.waiting.insert((exclusive, continuation), at: headOfQueue ? 0 : state.waiting.endIndex)
                return false
            }
            if entered { continuation.resume() }
        }
    }

    func leave(exclusive: Bool) {
        let admitted = state.withLockedValue { state in
            if exclusive { state.exclusiveHeld = false } else { state.sharedHolders -= 1 }
            var admitted: [CheckedContinuation<Void, Never>] = []
            while let next = state.waiting.first, state.exclusiveHeld == false {
                if next.exclusive {
                    guard state.sharedHolders == 0 else { break }
                    state.exclusiveHeld = true
                } else {
                    state.sharedHolders += 1
                }
                admitted.append(next.continuation)
                state.waiting.removeFirst()
            }
            return admitted
        }
        for continuation in admitted { continuation.resume() }
    }
}

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

        /// Enters at once when nobody waits ahead and the gate admits this kind.
        mutating func tryEnter(exclusive: Bool) -> Bool {
            guard waiting.isEmpty, exclusiveHeld == false, exclusive == false || sharedHolders == 0 else { return false }
            if exclusive { exclusiveHeld = true } else { sharedHolders += 1 }
            return true
        }
    }

    private let state = NIOLockedValueBox(State())

    /// Runs `body` alongside other shared holders.
    func withShared<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        if !tryEnter(exclusive: false) { await waitToEnter(exclusive: false) }
        defer { leave(exclusive: false) }
        return try await body()
    }

    /// Runs `body` with nothing else inside.
    func withExclusive<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        if !tryEnter(exclusive: true) { await waitToEnter(exclusive: true) }
        defer { leave(exclusive: true) }
        return try await body()
    }

    /// The uncontended case, without an await: every await is followed by a hop back to
    /// the caller's executor, which costs a command about 600 instructions.
    private func tryEnter(exclusive: Bool) -> Bool {
        state.withLockedValue { $0.tryEnter(exclusive: exclusive) }
    }

    private func waitToEnter(exclusive: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let entered = state.withLockedValue { state in
                if state.tryEnter(exclusive: exclusive) { return true }
                state.waiting.append((exclusive, continuation))
                return false
            }
            if entered { continuation.resume() }
        }
    }

    private func leave(exclusive: Bool) {
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

import NIOConcurrencyHelpers

/// Becomes true once every task of a session has left the device server after its
/// connection ended, so that a login reinstating the session (RFC 7143 §6.3.5) is
/// answered only when nothing of the old session can still reach the medium.
///
/// Not an `EventLoopPromise`: a session whose tasks never end (its loop shut down
/// first) must not be reported as a leaked promise.
final class SessionDrain: Sendable {
    private struct State {
        var drained = false
        var waiters: [@Sendable () -> Void] = []
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    /// Runs `body` once the session has drained: at once (on this thread) when it
    /// already has, otherwise on the thread that drains it.
    func whenDrained(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLockedValue { state -> Bool in
            if state.drained { return true }
            state.waiters.append(body)
            return false
        }
        if now { body() }
    }

    /// Runs `body` once every one of `drains` has drained (at once when none is left),
    /// on the thread that drains the last.
    static func whenAllDrained(_ drains: [SessionDrain], _ body: @escaping @Sendable () -> Void) {
        let remaining = NIOLockedValueBox(drains.count)
        guard !drains.isEmpty else { return body() }
        for drain in drains {
            drain.whenDrained {
                let last = remaining.withLockedValue { count -> Bool in
                    count -= 1
                    return count == 0
                }
                if last { body() }
            }
        }
    }

    /// Marks the session drained and runs the waiters.
    func markDrained() {
        let waiters = state.withLockedValue { state -> [@Sendable () -> Void] in
            state.drained = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter() }
    }
}

/// How often a failed path is tried again (logged in again when its session is gone):
/// exponential backoff with a cap and jitter, instead of a retry on every checker round.
///
/// Retry *n* (0-based, counted since the path failed) waits
/// `min(initial × multiplier^n, maximum)`, shortened by a random fraction of at most
/// ``jitter`` of itself, so that many initiators that lost the same array at the same
/// moment do not all log in again in lockstep. The cap stays a true maximum: jitter
/// only ever shortens a delay. A path that checks healthy starts again at `initial`.
public struct ReconnectBackoff: Hashable, Sendable, CustomStringConvertible {
    /// The default schedule: 1 s, 2 s, 4 s, … 30 s, each up to 20 % shorter at random.
    public static let standard = ReconnectBackoff()

    /// The wait before the first retry.
    public var initial: Duration
    /// The longest wait between two retries.
    public var maximum: Duration
    /// Growth per failed retry (1: a constant interval).
    public var multiplier: Double
    /// The largest fraction, 0 to 1, by which a delay is shortened at random (0: none).
    public var jitter: Double

    /// `initial` is raised to at least 1 ms, `maximum` to at least `initial`,
    /// `multiplier` to at least 1, and `jitter` clamped to 0...1: the schedule never
    /// retries in a busy loop and never shrinks.
    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = max(initial, .milliseconds(1))
        self.maximum = max(maximum, self.initial)
        self.multiplier = multiplier.isFinite ? max(multiplier, 1) : 1
        self.jitter = jitter.isFinite ? min(max(jitter, 0), 1) : 0
    }

    /// The delay before retry `attempt` (0-based) without jitter: `initial × multiplier^attempt`,
    /// capped at `maximum`.
    public func baseDelay(attempt: Int) -> Duration {
        var delay = initial
        for _ in 0..<max(attempt, 0) {
            // Stepwise, so a long outage never overflows: the cap is reached within a few dozen steps.
            guard delay < maximum else { break }
            delay = delay * multiplier
        }
        return min(delay, maximum)
    }

    /// The delay before retry `attempt` with jitter: `baseDelay × (1 − jitter × unit)` for a
    /// `unit` in 0..<1 drawn by the caller.
    public func delay(attempt: Int, unit: Double) -> Duration {
        let fraction = min(max(unit, 0), 1)
        return baseDelay(attempt: attempt) * (1 - jitter * fraction)
    }

    /// The delay before retry `attempt`, jittered with a unit drawn from `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        delay(attempt: attempt, unit: Self.unit(from: generator.next()))
    }

    /// A uniform fraction in 0..<1 from the top 53 bits of one generator output: spelled
    /// out so tests that script the generator know which unit each value gives.
    public static func unit(from bits: UInt64) -> Double {
        Double(bits >> 11) * 0x1p-53
    }

    public var description: String {
        let percent = Int((jitter * 100).rounded())
        return "\(initial.renderedSeconds)…\(maximum.renderedSeconds) ×\(multiplier.formatted) jitter \(percent)%"
    }
}

extension Double {
    /// `2`, `1.5`: without a trailing `.0` for whole numbers.
    fileprivate var formatted: String {
        rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self)
    }
}

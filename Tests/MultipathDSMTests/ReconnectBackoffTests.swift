import MultipathDSM
import Testing

/// A generator that replays `values` in a loop, so each jitter draw is known.
struct ScriptedRandom: RandomNumberGenerator, Sendable {
    var values: [UInt64]
    var position = 0

    init(_ values: [UInt64]) { self.values = values }

    mutating func next() -> UInt64 {
        defer { position += 1 }
        return values[position % values.count]
    }
}

/// Generator outputs for jitter units 0 and 0.5 (``ReconnectBackoff/unit(from:)``).
let unitZero: UInt64 = 0
let unitHalf: UInt64 = 1 << 63

extension TestInstant {
    static func at(milliseconds: Int64) -> TestInstant { TestInstant(sinceStart: .milliseconds(milliseconds)) }
}

@Suite("Reconnect backoff for failed paths")
struct ReconnectBackoffTests {
    /// Two Round Robin paths whose healthy checks are far apart, so only retries are due;
    /// the first checker round has run at t=0.
    func checkedDevice(_ backoff: ReconnectBackoff, random: [UInt64] = [unitZero], policy: LoadBalancePolicy = .roundRobin) -> TestDevice {
        let entry = try! SupportedDeviceEntry(parsing: "LIO-ORG disk")
        let paths = [path(1), path(2)]
        let unit = ClaimedLogicalUnit(identity: DeviceIdentity(of: paths[0])!, claimedBy: entry, paths: paths)
        let configuration = MultipathConfiguration(policy: policy, checkerInterval: .seconds(1000), reconnect: backoff)
        var device = TestDevice(unit, configuration: configuration, now: .at(0), random: ScriptedRandom(random))
        #expect(device.pathsDueForCheck(now: .at(0)) == [1, 2])
        return device
    }

    /// Lets path 1 fail `count` retries in a row, each the moment it is due; returns when each was due.
    func failRetries(_ device: inout TestDevice, _ count: Int) -> [TestInstant] {
        var times: [TestInstant] = []
        for _ in 0..<count {
            guard let due = device.nextRetry(of: 1) else { Issue.record("path 1 has no retry scheduled"); break }
            #expect(device.pathsDueForCheck(now: due.advanced(by: .milliseconds(-1))) == [])
            #expect(device.pathsDueForCheck(now: due) == [1])
            #expect(device.nextRetry(of: 1) == nil, "no second retry while one is under way")
            _ = device.handle(.checked(.unreachable), on: 1, now: due)
            times.append(due)
        }
        return times
    }

    @Test("Base schedule: initial × multiplier^n up to the cap")
    func schedule() {
        let standard = ReconnectBackoff.standard
        #expect((0..<8).map { standard.baseDelay(attempt: $0) } == [1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
        let gentle = ReconnectBackoff(initial: .milliseconds(500), maximum: .seconds(5), multiplier: 1.5, jitter: 0)
        #expect((0..<7).map { gentle.baseDelay(attempt: $0) } == [500, 750, 1125, 1687.5, 2531.25, 3796.875, 5000].map { Duration.milliseconds($0) })
    }

    @Test("The cap holds for any attempt count and any jitter draw")
    func cap() {
        let backoff = ReconnectBackoff(initial: .seconds(1), maximum: .seconds(30), multiplier: 10, jitter: 1)
        #expect(backoff.baseDelay(attempt: 1_000_000) == .seconds(30))
        for bits in [unitZero, unitHalf, UInt64.max] {
            #expect(backoff.delay(attempt: 1_000_000, unit: ReconnectBackoff.unit(from: bits)) <= .seconds(30))
        }
    }

    @Test("Jitter only shortens a delay, by at most its fraction")
    func jitter() {
        let backoff = ReconnectBackoff(initial: .seconds(4), maximum: .seconds(30), multiplier: 2, jitter: 0.5)
        #expect(ReconnectBackoff.unit(from: unitZero) == 0)
        #expect(ReconnectBackoff.unit(from: unitHalf) == 0.5)
        #expect(ReconnectBackoff.unit(from: .max) < 1)
        #expect(backoff.delay(attempt: 0, unit: 0) == .seconds(4))
        #expect(backoff.delay(attempt: 0, unit: 0.5) == .seconds(3))
        #expect(backoff.delay(attempt: 0, unit: ReconnectBackoff.unit(from: .max)) >= .seconds(2))
    }

    @Test("Settings that would spin or shrink are clamped")
    func clamped() {
        let backoff = ReconnectBackoff(initial: .zero, maximum: .zero, multiplier: 0.5, jitter: 7)
        #expect(backoff.initial == .milliseconds(1))
        #expect(backoff.maximum == .milliseconds(1))
        #expect(backoff.multiplier == 1)
        #expect(backoff.jitter == 1)
        #expect(ReconnectBackoff(multiplier: .nan, jitter: .infinity) == ReconnectBackoff(multiplier: 1, jitter: 0))
    }

    @Test("A failed path is retried at 1, 3, 7, 15, 31, 61, 91 s: doubling from 1 s, capped at 30 s")
    func retryTimes() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0))
        _ = device.handle(.transportError, on: 1, now: .at(0))
        #expect(device.state(of: 1) == .failed)
        #expect(failRetries(&device, 7) == [1, 3, 7, 15, 31, 61, 91].map { TestInstant.at($0) })
        #expect(device.nextRetry(of: 1) == .at(121))
    }

    @Test("Jitter comes from the injected generator, one draw per retry")
    func jitteredRetryTimes() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0.5), random: [unitZero, unitHalf, unitZero])
        _ = device.handle(.transportError, on: 1, now: .at(0))
        // Delays 1 s, 2 s × 0.75, 4 s: retries at 1 s, 2.5 s, 6.5 s.
        #expect(failRetries(&device, 3) == [1000, 2500, 6500].map { TestInstant.at(milliseconds: $0) })
    }

    @Test("Errors of other I/O still in flight on a failed path do not push its retry back")
    func inFlightErrorsDoNotAdvance() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0))
        device.beginIO(path: 1, blocks: 8)
        device.beginIO(path: 1, blocks: 8)
        device.beginIO(path: 1, blocks: 8)
        for _ in 0..<3 { _ = device.endIO(path: 1, blocks: 8, outcome: .transportError, now: .at(0)) }
        #expect(device.nextRetry(of: 1) == .at(1))
        _ = device.handle(.sense(Sense.becomingReady), on: 1, now: .at(0))
        #expect(device.nextRetry(of: 1) == .at(1))
    }

    @Test("A retry that answers with path-related sense counts as a failed retry")
    func notReadyRetry() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0))
        _ = device.handle(.transportError, on: 1, now: .at(0))
        #expect(device.pathsDueForCheck(now: .at(1)) == [1])
        _ = device.handle(.checked(.sense(Sense.becomingReady)), on: 1, now: .at(1))
        #expect(device.state(of: 1) == .failed)
        #expect(device.nextRetry(of: 1) == .at(3))
    }

    @Test("Success resets the schedule: the next failure is retried after the initial delay again")
    func resetAfterSuccess() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0))
        _ = device.handle(.transportError, on: 1, now: .at(0))
        #expect(failRetries(&device, 4) == [1, 3, 7, 15].map { TestInstant.at($0) })
        #expect(device.nextRetry(of: 1) == .at(31))
        #expect(device.pathsDueForCheck(now: .at(31)) == [1])
        _ = device.handle(.checked(.ready), on: 1, now: .at(31))
        #expect(device.state(of: 1) == .active)
        #expect(device.nextRetry(of: 1) == nil)
        // Healthy again: back on the checker interval, not the backoff.
        #expect(device.nextCheck(now: .at(31)) == .at(1000))
        _ = device.handle(.transportError, on: 1, now: .at(40))
        #expect(device.nextRetry(of: 1) == .at(41))
        #expect(failRetries(&device, 2) == [41, 43].map { TestInstant.at($0) })
    }

    @Test("nextCheck names the earliest retry or checker round")
    func nextCheck() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0))
        #expect(device.nextCheck(now: .at(0)) == .at(1000))
        _ = device.handle(.transportError, on: 1, now: .at(10))
        #expect(device.nextCheck(now: .at(10)) == .at(11))
        #expect(device.nextCheck(now: .at(12)) == .at(12), "an overdue retry is due now")
    }

    @Test("Failback still works: the preferred path is used again once a retry finds it up")
    func failbackAfterRetries() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0), policy: .failOverOnly)
        #expect(device.selectPath() == 1)
        device.beginIO(path: 1, blocks: 8)
        let completion = device.endIO(path: 1, blocks: 8, outcome: .transportError, now: .at(0))
        #expect(completion.disposition == .retry(2))
        #expect(failRetries(&device, 2) == [1, 3].map { TestInstant.at($0) })
        #expect(device.selectPath() == 2)
        #expect(device.pathsDueForCheck(now: .at(7)) == [1])
        _ = device.handle(.checked(.ready), on: 1, now: .at(7))
        #expect(device.selectPath() == 1)
    }

    @Test("Round Robin: a path back up carries I/O again")
    func roundRobinRejoins() {
        var device = checkedDevice(ReconnectBackoff(jitter: 0))
        _ = device.handle(.transportError, on: 1, now: .at(0))
        #expect(selections(&device, 3) == [2, 2, 2])
        #expect(device.pathsDueForCheck(now: .at(1)) == [1])
        _ = device.handle(.checked(.ready), on: 1, now: .at(1))
        #expect(Set(selections(&device, 2)) == [1, 2])
    }
}

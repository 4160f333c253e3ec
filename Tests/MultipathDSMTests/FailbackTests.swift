import MultipathDSM
import Testing

@Suite("Failback to the preferred path")
struct FailbackTests {
    /// Fail Over Only over two paths, path 1 preferred; path 1 fails at t=1.
    func failedOver(_ failback: FailbackPolicy) -> TestDevice {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .failOverOnly, failback: failback))
        device.beginIO(path: 1, blocks: 8)
        _ = device.endIO(path: 1, blocks: 8, outcome: .transportError, now: .at(1))
        return device
    }

    @Test("Immediate: I/O returns as soon as the preferred path checks healthy")
    func immediate() {
        var device = failedOver(.immediate)
        #expect(device.selectPath() == 2)
        _ = device.handle(.checked(.ready), on: 1, now: .at(5))
        #expect(device.selectPath() == 1)
    }

    @Test("Manual: the recovered path waits for the administrator")
    func manual() {
        var device = failedOver(.manual)
        _ = device.handle(.checked(.ready), on: 1, now: .at(5))
        #expect(device.state(of: 1) == .active)
        #expect(device.status.paths[0].failbackPending)
        #expect(selections(&device, 2) == [2, 2])
        #expect(device.tick(now: .at(10_000)) == [])
        #expect(device.selectPath() == 2)
        device.failback()
        #expect(device.selectPath() == 1)
    }

    @Test("Manual: a held path takes over anyway when nothing else is left")
    func manualLastPath() {
        var device = failedOver(.manual)
        _ = device.handle(.checked(.ready), on: 1, now: .at(5))
        #expect(device.handle(.transportError, on: 2, now: .at(6)) == [])
        #expect(device.route() == .send(1))
    }

    @Test("After N seconds: only once the preferred path has stayed healthy that long")
    func timed() {
        var device = failedOver(.after(.seconds(10)))
        _ = device.handle(.checked(.ready), on: 1, now: .at(5))
        #expect(device.nextDeadline == .at(15))
        #expect(device.tick(now: .at(14)) == [])
        #expect(device.selectPath() == 2)
        #expect(device.tick(now: .at(15)) == [])
        #expect(device.selectPath() == 1)
        #expect(device.nextDeadline == nil)
    }

    @Test("After N seconds: a flap restarts the wait")
    func timedFlap() {
        var device = failedOver(.after(.seconds(10)))
        _ = device.handle(.checked(.ready), on: 1, now: .at(5))
        _ = device.handle(.checked(.unreachable), on: 1, now: .at(12))
        _ = device.handle(.checked(.ready), on: 1, now: .at(13))
        _ = device.tick(now: .at(15))
        #expect(device.selectPath() == 2)
        _ = device.handle(.checked(.ready), on: 1, now: .at(23))
        #expect(device.selectPath() == 1)
    }

    @Test("Round Robin has no preferred path: recovered paths rejoin at once even with manual failback")
    func roundRobinRejoins() {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .roundRobin, failback: .manual))
        _ = device.handle(.transportError, on: 1, now: .at(1))
        _ = device.handle(.checked(.ready), on: 1, now: .at(2))
        #expect(Set(selections(&device, 2)) == [1, 2])
    }
}

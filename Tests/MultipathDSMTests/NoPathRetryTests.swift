import MultipathDSM
import SCSIProtocol
import Testing

@Suite("No path left: queue, then fail")
struct NoPathRetryTests {
    func lonePath(_ noPathRetry: NoPathRetry) -> TestDevice {
        device([path(1)], MultipathConfiguration(noPathRetry: noPathRetry))
    }

    @Test("I/O is held for no_path_retry, then failed with a clear error")
    func queueThenFail() {
        var device = lonePath(.queue(for: .seconds(30)))
        device.beginIO(path: 1, blocks: 8)
        #expect(device.endIO(path: 1, blocks: 8, outcome: .transportError, now: .at(10)) == IOCompletion(.queue))
        #expect(device.route() == .queue)
        #expect(device.status.availability == .queueing)
        #expect(device.nextDeadline == .at(40))
        #expect(device.tick(now: .at(39)) == [])

        let actions = device.tick(now: .at(40))
        guard case .failQueuedIO(let error) = actions.first, actions.count == 1 else {
            Issue.record("expected failQueuedIO, got \(actions)")
            return
        }
        #expect(error.code == .noPathAvailable)
        #expect(error.description.contains("naa.6001405abbccddee"))
        #expect(device.route() == .fail(error))
        #expect(device.status.availability == .failing)

        // A path returning ends the failing; there is nothing held to resume.
        #expect(device.handle(.checked(.ready), on: 1, now: .at(50)) == [])
        #expect(device.route() == .send(1))
    }

    @Test("A path back before the deadline resumes the held I/O")
    func queueThenResume() {
        var device = lonePath(.queue(for: .seconds(30)))
        _ = device.handle(.transportError, on: 1, now: .at(0))
        #expect(device.route() == .queue)
        #expect(device.handle(.checked(.ready), on: 1, now: .at(29)) == [.resumeQueuedIO])
        #expect(device.route() == .send(1))
        #expect(device.nextDeadline == nil)
    }

    @Test("no_path_retry fail: I/O fails at once")
    func failAtOnce() {
        var device = lonePath(.fail)
        device.beginIO(path: 1, blocks: 8)
        guard case .fail(let error) = device.endIO(path: 1, blocks: 8, outcome: .transportError, now: .at(1)).disposition else {
            Issue.record("expected failure")
            return
        }
        #expect(error.code == .noPathAvailable)
    }

    @Test("no_path_retry queue: held until a path returns, however long")
    func queueIndefinitely() {
        var device = lonePath(.queueIndefinitely)
        _ = device.handle(.transportError, on: 1, now: .at(0))
        #expect(device.nextDeadline == nil)
        #expect(device.tick(now: .at(1_000_000)) == [])
        #expect(device.route() == .queue)
    }

    @Test("Only standby paths left counts as no path")
    func standbyOnly() {
        var device = device([path(1), path(2, group: TargetPortGroupStatus(groupID: 2, state: .standby))])
        #expect(device.handle(.sense(Sense.standby), on: 1, now: .at(1)) == [.refreshALUA(via: 1)])
        #expect(device.route() == .queue)
        #expect(device.updateALUA([TargetPortGroupStatus(groupID: 2, state: .activeOptimized)], now: .at(2))
            == [.resumeQueuedIO])
        #expect(device.route() == .send(2))
    }
}

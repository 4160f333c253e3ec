import MultipathDSM
import SCSIProtocol
import Testing

@Suite("Failover: path failures move I/O")
struct FailoverTests {
    @Test("A transport error fails the path and retries the I/O on another")
    func transportError() {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .failOverOnly))
        #expect(device.route() == .send(1))
        device.beginIO(path: 1, blocks: 8)
        #expect(device.endIO(path: 1, blocks: 8, outcome: .transportError, now: .at(1)) == IOCompletion(.retry(2)))
        #expect(device.state(of: 1) == .failed)
        let counters = device.counters(of: 1)
        #expect(counters?.errors == 1)
        #expect(counters?.failovers == 1)
        #expect(counters?.outstandingIOs == 0)
        #expect(device.route() == .send(2))
    }

    @Test("ALUA standby sense puts the path in standby, retries elsewhere and asks for RTPG")
    func aluaStandbySense() {
        var device = device([
            path(1, group: TargetPortGroupStatus(groupID: 1, state: .activeOptimized)),
            path(2, group: TargetPortGroupStatus(groupID: 2, state: .standby)),
            path(3, group: TargetPortGroupStatus(groupID: 1, state: .activeOptimized)),
        ], MultipathConfiguration(policy: .roundRobinWithSubset))
        device.beginIO(path: 1, blocks: 8)
        let completion = device.endIO(path: 1, blocks: 8, outcome: .checkCondition(Sense.standby), now: .at(1))
        #expect(completion == IOCompletion(.retry(3), actions: [.refreshALUA(via: 1)]))
        #expect(device.state(of: 1) == .standby)
        #expect(device.counters(of: 1)?.failovers == 1)

        // The report says the groups swapped: group 2 carries I/O now.
        let actions = device.updateALUA([
            TargetPortGroupStatus(groupID: 1, state: .standby),
            TargetPortGroupStatus(groupID: 2, state: .activeOptimized),
        ], now: .at(2))
        #expect(actions == [])
        #expect(selections(&device, 2) == [2, 2])
        #expect(device.state(of: 3) == .standby)
    }

    @Test("Unavailable and transitioning ports are left as well", arguments: [
        (Sense.unavailable, AsymmetricAccessState.unavailable), (Sense.transitioning, .transitioning),
    ])
    func otherInaccessibleStates(sense: SenseCode, state: AsymmetricAccessState) {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .failOverOnly))
        device.beginIO(path: 1, blocks: 1)
        #expect(device.endIO(path: 1, blocks: 1, outcome: .checkCondition(sense), now: .at(1))
            == IOCompletion(.retry(2), actions: [.refreshALUA(via: 1)]))
        #expect(device.status.paths[0].aluaState == state)
        #expect(device.state(of: 1) == .standby)
    }

    @Test("ASYMMETRIC ACCESS STATE CHANGED re-reads ALUA and retries without blaming the path")
    func accessStateChanged() {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .failOverOnly))
        device.beginIO(path: 1, blocks: 8)
        #expect(device.endIO(path: 1, blocks: 8, outcome: .checkCondition(Sense.accessStateChanged), now: .at(1))
            == IOCompletion(.retry(1), actions: [.refreshALUA(via: 1)]))
        #expect(device.state(of: 1) == .active)
        #expect(device.counters(of: 1)?.errors == 0)
    }

    @Test("LOGICAL UNIT NOT READY (02/04/xx) fails the path")
    func notReady() {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .roundRobin))
        device.beginIO(path: 1, blocks: 8)
        #expect(device.endIO(path: 1, blocks: 8, outcome: .checkCondition(Sense.becomingReady), now: .at(1))
            == IOCompletion(.retry(2)))
        #expect(device.state(of: 1) == .failed)
    }

    @Test("Unit attentions and ABORTED COMMAND retry on the policy's next path; the path stays")
    func retryWithoutFailover() {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .roundRobin))
        #expect(device.route() == .send(1))
        device.beginIO(path: 1, blocks: 8)
        #expect(device.endIO(path: 1, blocks: 8, outcome: .checkCondition(Sense.powerOnReset), now: .at(1))
            == IOCompletion(.retry(2)))
        device.beginIO(path: 2, blocks: 8)
        #expect(device.endIO(path: 2, blocks: 8, outcome: .checkCondition(SenseCode(key: .abortedCommand, asc: 0x47, ascq: 0x05)), now: .at(1))
            == IOCompletion(.retry(1)))
        #expect(device.status.paths.map(\.state) == [.active, .active])
        #expect(device.status.paths.map(\.counters.failovers) == [0, 0])
    }

    @Test("Sense about the LU or the command goes back to the requester", arguments: [
        Sense.unrecoveredReadError, Sense.invalidOpcode,
    ])
    func notPathRelated(sense: SenseCode) {
        var device = device([path(1), path(2)])
        device.beginIO(path: 1, blocks: 8)
        #expect(device.endIO(path: 1, blocks: 8, outcome: .checkCondition(sense), now: .at(1)) == IOCompletion(.complete))
        #expect(device.state(of: 1) == .active)
        #expect(device.counters(of: 1)?.errors == 0)
    }

    @Test("The path checker: unreachable fails, ready restores, 02/04/0B means standby")
    func pathChecker() {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .roundRobin))
        #expect(device.handle(.checked(.unreachable), on: 1, now: .at(1)) == [])
        #expect(device.state(of: 1) == .failed)
        #expect(device.handle(.checked(.ready), on: 1, now: .at(2)) == [])
        #expect(device.state(of: 1) == .active)
        #expect(device.handle(.checked(.sense(Sense.standby)), on: 1, now: .at(3)) == [.refreshALUA(via: 1)])
        #expect(device.state(of: 1) == .standby)
        // Still standby on the next check: nothing new to report.
        #expect(device.handle(.checked(.sense(Sense.standby)), on: 1, now: .at(4)) == [])
        // No port group known: a good TEST UNIT READY is proof enough of access.
        #expect(device.handle(.checked(.ready), on: 1, now: .at(5)) == [])
        #expect(device.state(of: 1) == .active)
    }

    @Test("A good check on an ALUA standby path asks for RTPG instead of guessing")
    func checkerReadyOnStandbyGroup() {
        var device = device([path(1, group: TargetPortGroupStatus(groupID: 1, state: .standby)), path(2)])
        #expect(device.handle(.checked(.ready), on: 1, now: .at(1)) == [.refreshALUA(via: 1)])
        #expect(device.state(of: 1) == .standby)
        _ = device.updateALUA([TargetPortGroupStatus(groupID: 1, state: .activeOptimized)], now: .at(2))
        #expect(device.state(of: 1) == .active)
    }

    @Test("Checks are due once per interval; removed paths are never checked")
    func checkerSchedule() {
        var device = device([path(1), path(2), path(3)], MultipathConfiguration(checkerInterval: .seconds(5)))
        #expect(device.pathsDueForCheck(now: .at(0)) == [1, 2, 3])
        #expect(device.pathsDueForCheck(now: .at(4)) == [])
        _ = device.removePath(2, now: .at(4))
        #expect(device.pathsDueForCheck(now: .at(5)) == [1, 3])
        #expect(device.state(of: 2) == .removed)
    }

    @Test("Paths join and leave; a path to another LU is refused")
    func topology() throws {
        var device = device([path(1)])
        #expect(throws: MultipathDSMError.self) { try device.addPath(path(2, lu: 9), now: .at(1)) }
        #expect(try device.addPath(path(2), now: .at(1)) == [])
        #expect(selections(&device, 2) == [1, 2])
        device.beginIO(path: 2, blocks: 4)
        _ = device.removePath(2, now: .at(2))
        #expect(device.endIO(path: 2, blocks: 4, outcome: .completed, now: .at(3)) == IOCompletion(.complete))
        #expect(try device.addPath(path(2), now: .at(4)) == [])
        #expect(device.counters(of: 2)?.ios == 1)
        #expect(device.state(of: 2) == .active)
    }

    @Test("Counters: I/Os, blocks, outstanding, errors, failovers")
    func counters() {
        var device = device([path(1), path(2)], MultipathConfiguration(policy: .failOverOnly))
        device.beginIO(path: 1, blocks: 8)
        device.beginIO(path: 1, blocks: 16)
        var counters = device.counters(of: 1)!
        #expect((counters.ios, counters.blocks, counters.outstandingIOs, counters.outstandingBlocks) == (2, 24, 2, 24))
        _ = device.endIO(path: 1, blocks: 8, outcome: .completed, now: .at(1))
        _ = device.endIO(path: 1, blocks: 16, outcome: .transportError, now: .at(1))
        counters = device.counters(of: 1)!
        #expect((counters.outstandingIOs, counters.outstandingBlocks, counters.errors, counters.failovers) == (0, 0, 1, 1))
        #expect(device.counters(of: 2) == PathCounters())
        #expect(device.counters(of: 9) == nil)
    }
}

import MultipathDSM
import SCSIProtocol
import Testing

@Suite("Load-balance policies choose paths")
struct LoadBalancePolicyTests {
    let three = [path(1), path(2), path(3)]

    @Test("Fail Over Only: the first path, the admin's preferred path, else the ALUA PREF group")
    func failOverOnly() {
        var plain = device(three, MultipathConfiguration(policy: .failOverOnly))
        #expect(selections(&plain, 3) == [1, 1, 1])
        plain.setPreferredPath(3)
        #expect(selections(&plain, 2) == [3, 3])

        var alua = device([
            path(1, group: TargetPortGroupStatus(groupID: 1, state: .activeNonOptimized)),
            path(2, group: TargetPortGroupStatus(groupID: 2, state: .activeOptimized)),
            path(3, group: TargetPortGroupStatus(groupID: 3, state: .activeNonOptimized, preferred: true)),
        ], MultipathConfiguration(policy: .failOverOnly))
        #expect(selections(&alua, 2) == [3, 3])
    }

    @Test("Round Robin: every active path in turn")
    func roundRobin() {
        var device = device(three, MultipathConfiguration(policy: .roundRobin))
        #expect(selections(&device, 7) == [1, 2, 3, 1, 2, 3, 1])
    }

    @Test("Round Robin with Subset: active/optimized paths, else active/non-optimized")
    func roundRobinWithSubset() {
        var device = device([
            path(1, group: TargetPortGroupStatus(groupID: 1, state: .activeOptimized)),
            path(2, group: TargetPortGroupStatus(groupID: 2, state: .activeNonOptimized)),
            path(3, group: TargetPortGroupStatus(groupID: 1, state: .activeOptimized)),
            path(4, group: TargetPortGroupStatus(groupID: 3, state: .standby)),
        ], MultipathConfiguration(policy: .roundRobinWithSubset))
        #expect(selections(&device, 4) == [1, 3, 1, 3])
        #expect(device.updateALUA([TargetPortGroupStatus(groupID: 1, state: .unavailable)], now: .at(1)) == [])
        #expect(selections(&device, 2) == [2, 2])
        _ = device.updateALUA([TargetPortGroupStatus(groupID: 3, state: .activeNonOptimized)], now: .at(2))
        #expect(selections(&device, 3) == [4, 2, 4])
    }

    @Test("Least Queue Depth: fewest outstanding I/Os, ties in turn")
    func leastQueueDepth() {
        var device = device(three, MultipathConfiguration(policy: .leastQueueDepth))
        var chosen: [PathID?] = []
        for _ in 0..<4 {
            let next = device.selectPath()
            chosen.append(next)
            device.beginIO(path: next!, blocks: 8)
        }
        #expect(chosen == [1, 2, 3, 1])
        _ = device.endIO(path: 2, blocks: 8, outcome: .completed, now: .at(1))
        _ = device.endIO(path: 3, blocks: 8, outcome: .completed, now: .at(1))
        #expect(device.selectPath() == 2)
        device.beginIO(path: 2, blocks: 8)
        #expect(device.selectPath() == 3)
    }

    @Test("Weighted Paths: lowest weight wins, ties by order, unweighted last")
    func weightedPaths() {
        var device = device(three + [path(4)], MultipathConfiguration(policy: .weightedPaths))
        device.setWeight(20, for: 1)
        device.setWeight(10, for: 2)
        device.setWeight(10, for: 3)
        #expect(selections(&device, 3) == [2, 2, 2])
        _ = device.handle(.transportError, on: 2, now: .at(1))
        #expect(selections(&device, 2) == [3, 3])
        _ = device.handle(.transportError, on: 3, now: .at(1))
        _ = device.handle(.transportError, on: 1, now: .at(1))
        #expect(device.selectPath() == 4)
    }

    @Test("Least Blocks: fewest outstanding blocks, not fewest commands")
    func leastBlocks() {
        var device = device(three, MultipathConfiguration(policy: .leastBlocks))
        device.beginIO(path: 1, blocks: 256)
        device.beginIO(path: 2, blocks: 8)
        device.beginIO(path: 2, blocks: 8)
        device.beginIO(path: 3, blocks: 64)
        #expect(device.selectPath() == 2)
        device.beginIO(path: 2, blocks: 128)
        #expect(device.selectPath() == 3)
        _ = device.endIO(path: 1, blocks: 256, outcome: .completed, now: .at(1))
        #expect(device.selectPath() == 1)
    }

    @Test("No policy picks a standby, failed or removed path", arguments: LoadBalancePolicy.allCases)
    func onlyActivePaths(policy: LoadBalancePolicy) {
        var device = device([
            path(1), path(2, group: TargetPortGroupStatus(groupID: 2, state: .standby)), path(3), path(4),
        ], MultipathConfiguration(policy: policy))
        _ = device.handle(.transportError, on: 1, now: .at(1))
        _ = device.removePath(3, now: .at(1))
        #expect(Set(selections(&device, 4)) == [4])
    }

    @Test("MSDSM names")
    func names() {
        #expect(LoadBalancePolicy.allCases.map(\.msdsmName) == [
            "Fail Over Only", "Round Robin", "Round Robin with Subset", "Least Queue Depth", "Weighted Paths", "Least Blocks",
        ])
    }
}

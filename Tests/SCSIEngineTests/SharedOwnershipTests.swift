import BlockStorage
import LUNBackends
import NIOCore
import SCSIEngine
import SCSIProtocol
import Synchronization
import Testing

/// The lock of a medium several gateways open (an rbd image's exclusive lock, as
/// librbd keeps it): a write from anyone but the holder is refused, and taking it from
/// a holder that was not fenced is recorded as the violation it would be.
final class TestImageLock: Sendable {
    private struct State {
        var holder: Int?
        var fenced: Set<Int> = []
        var violations: [String] = []
        var failingReleases: Set<Int> = []
    }

    private let state = Mutex(State())

    var holder: Int? { state.withLock { $0.holder } }
    var violations: [String] { state.withLock { $0.violations } }

    /// Gateway `gateway` was put on the blocklist: its lock may be broken.
    func fence(_ gateway: Int) { state.withLock { _ = $0.fenced.insert(gateway) } }

    func failReleases(of gateway: Int) { state.withLock { _ = $0.failingReleases.insert(gateway) } }

    func acquire(by gateway: Int) {
        state.withLock { state in
            if let holder = state.holder, holder != gateway, !state.fenced.contains(holder) {
                state.violations.append("gateway \(gateway) took the lock from gateway \(holder), which was neither released nor fenced")
            }
            state.holder = gateway
        }
    }

    func release(by gateway: Int) throws {
        try state.withLock { state in
            if state.failingReleases.contains(gateway) { throw BlockStorageError(.writeFailed, "release refused (test)") }
            if state.holder == gateway { state.holder = nil }
        }
    }

    func checkWrite(by gateway: Int) throws {
        try state.withLock { state in
            guard state.holder == gateway, !state.fenced.contains(gateway) else {
                throw BlockStorageError(.notLockHolder, "gateway \(gateway) does not hold the lock (test)")
            }
        }
    }
}

/// One gateway's handle on a medium shared by all (a RAM device) behind a ``TestImageLock``.
struct TestLockedMedium: ExclusiveLockDevice {
    let medium: RAMBlockDevice
    let lock: TestImageLock
    let gateway: Int

    var requiresExclusiveLock: Bool { true }
    var geometry: BlockGeometry { medium.geometry }

    func acquireExclusiveLock() async throws { lock.acquire(by: gateway) }
    func releaseExclusiveLock() async throws { try lock.release(by: gateway) }

    func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        try await medium.read(at: lba, blockCount: blockCount, allocator: allocator)
    }
    func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try lock.checkWrite(by: gateway)
        try await medium.write(data, at: lba, forceUnitAccess: forceUnitAccess)
    }
    func flush() async throws {}
    func unmap(at lba: UInt64, blockCount: Int) async throws {
        try lock.checkWrite(by: gateway)
        try await medium.unmap(at: lba, blockCount: blockCount)
    }
    func resize(toBlockCount blockCount: UInt64) async throws { try await medium.resize(toBlockCount: blockCount) }
    func compareAndWrite(_ expected: ByteBuffer, _ replacement: ByteBuffer, at lba: UInt64) async throws -> CompareAndWriteResult? { nil }
    func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: UInt64) async throws -> Bool { false }
    func onExternalResize(_ handler: @escaping @Sendable () -> Void) {}
}

/// Owner mode (SPC-4 §5.15.2.2 implicit transitions): a logical unit only one gateway
/// writes at a time, its owner shared through the record, its lock moved only once the
/// previous holder gave it up or was fenced.
@Suite("owner mode: one gateway writes, ownership moves between gateways")
struct SharedOwnershipTests {
    /// Gateway 1's ports are target port group 1 (nexusA), gateway 2's group 2 (nexusB);
    /// the unit's home is group 1.
    static let groups = [
        TargetPortGroupDescriptor(tag: 1, relativeTargetPortIdentifiers: [1]),
        TargetPortGroupDescriptor(tag: 2, relativeTargetPortIdentifiers: [2]),
    ]

    struct Cluster {
        let space = TestSharedReservationSpace()
        let medium = RAMBlockDevice(blockCount: 2048)
        let lock = TestImageLock()

        func gateway(_ number: Int, failback: Bool = true) async -> SCSITargetDevice {
            var descriptor = TestFixture.descriptor(device: TestLockedMedium(medium: medium, lock: lock, gateway: number))
            descriptor.homeTargetPortGroup = 1
            let target = await SCSITargetDevice.restoring(
                targetName: TestFixture.targetName, logicalUnits: [descriptor], logger: TestFixture.logger,
                reservationStore: space.gateway(number), targetPortGroups: SharedOwnershipTests.groups,
                ownership: SharedOwnership(localTargetPortGroup: UInt16(number), failback: failback))
            target.nexusLogin(number == 1 ? TestFixture.nexusA : TestFixture.nexusB)
            return target
        }

        /// Waits (bounded) until gateway `number` holds the lock.
        func untilHeld(by number: Int?) async -> Bool {
            for _ in 0..<2000 {
                if lock.holder == number { return true }
                try? await Task.sleep(for: .milliseconds(1))
            }
            return false
        }
    }

    /// Each group's ASYMMETRIC ACCESS STATE and PREF from REPORT TARGET PORT GROUPS
    /// through `nexus`, past its unit attentions.
    static func states(_ target: SCSITargetDevice, nexus: ITNexus) async -> [UInt16: (state: UInt8, preferred: Bool)] {
        await SPC4ALUATests.clearUnitAttentions(target, nexus: nexus)
        let data = await SPC4ALUATests.rtpg(target, nexus: nexus)
        var states: [UInt16: (state: UInt8, preferred: Bool)] = [:]
        for offset in stride(from: 4, to: data.count, by: 12) {
            states[UInt16(data[offset + 2]) << 8 | UInt16(data[offset + 3])] = (data[offset] & 0x0F, data[offset] & 0x80 != 0)
        }
        return states
    }

    /// WRITE(10) of one block, past the unit attentions pending before it.
    static func write(_ target: SCSITargetDevice, nexus: ITNexus, seed: UInt8) async -> SCSICommandResult {
        await SPC4ALUATests.clearUnitAttentions(target, nexus: nexus)
        return await target.execute(TestFixture.command(CDB.write10(lba: 8, blocks: 1), dataOut: pattern(blocks: 1, seed: seed), nexus: nexus))
    }

    static func read(_ target: SCSITargetDevice, nexus: ITNexus) async -> [UInt8] {
        await target.execute(TestFixture.command(CDB.read10(lba: 8, blocks: 1), nexus: nexus)).data
    }

    @Test("the first gateway up claims the unit and takes the lock; both report it active/optimized, the other non-optimized, PREF on the home")
    func firstGatewayClaims() async {
        let cluster = Cluster()
        let a = await cluster.gateway(1)
        #expect(await cluster.untilHeld(by: 1))
        let b = await cluster.gateway(2)
        for (target, nexus) in [(a, TestFixture.nexusA), (b, TestFixture.nexusB)] {
            let states = await Self.states(target, nexus: nexus)
            #expect(states[1]?.state == AsymmetricAccessState.activeOptimized.rawValue && states[1]?.preferred == true)
            #expect(states[2]?.state == AsymmetricAccessState.activeNonOptimized.rawValue && states[2]?.preferred == false)
        }
        #expect(await Self.write(a, nexus: TestFixture.nexusA, seed: 3).status == .good)
        #expect(cluster.lock.holder == 1)
        #expect(cluster.lock.violations.isEmpty)
    }

    @Test("§5.15.2.2 a write through the non-owner moves the unit there: the owner gives the lock up first, every nexus is told")
    func writeThroughNonOwnerMovesTheUnit() async {
        let cluster = Cluster()
        let a = await cluster.gateway(1)
        #expect(await cluster.untilHeld(by: 1))
        let b = await cluster.gateway(2)
        await SPC4ALUATests.clearUnitAttentions(a, nexus: TestFixture.nexusA)
        await SPC4ALUATests.clearUnitAttentions(b, nexus: TestFixture.nexusB)
        // The write moves the unit, then meets the unit attention the move established
        // for every I_T nexus, its own too (an implicit transition); the host retries.
        #expect(await Self.write(b, nexus: TestFixture.nexusB, seed: 7).hasSense(.asymmetricAccessStateChanged))
        #expect(cluster.lock.holder == 2)
        #expect(cluster.lock.violations.isEmpty)
        #expect(await Self.write(b, nexus: TestFixture.nexusB, seed: 7).status == .good)
        #expect(await a.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusA)).hasSense(.asymmetricAccessStateChanged))
        for (target, nexus) in [(a, TestFixture.nexusA), (b, TestFixture.nexusB)] {
            let states = await Self.states(target, nexus: nexus)
            #expect(states[2]?.state == AsymmetricAccessState.activeOptimized.rawValue)
            #expect(states[1]?.state == AsymmetricAccessState.activeNonOptimized.rawValue && states[1]?.preferred == true)
        }
        // A still serves reads (active/non-optimized), of what B wrote.
        #expect(await Self.read(a, nexus: TestFixture.nexusA) == pattern(blocks: 1, seed: 7))
    }

    @Test("the owner fenced: the gateway that fenced it takes the unit over, breaking the fenced holder's lock")
    func fencedOwnerIsTakenOver() async {
        let cluster = Cluster()
        let a = await cluster.gateway(1)
        #expect(await cluster.untilHeld(by: 1))
        let b = await cluster.gateway(2)
        #expect(await Self.write(a, nexus: TestFixture.nexusA, seed: 4).status == .good)
        // A stops answering: the cluster fences it, and it hears nothing more.
        cluster.space.silence(gateway: 1)
        cluster.lock.fence(1)
        await b.targetPortGroupLost(1)
        #expect(await cluster.untilHeld(by: 2))
        #expect(cluster.lock.violations.isEmpty)
        let states = await Self.states(b, nexus: TestFixture.nexusB)
        #expect(states[2]?.state == AsymmetricAccessState.activeOptimized.rawValue)
        #expect(await Self.write(b, nexus: TestFixture.nexusB, seed: 5).status == .good)
        // Whatever A still sends the storage refuses: NOT READY (ALUA transition, so
        // the host retries elsewhere), never GOOD.
        #expect(await Self.write(a, nexus: TestFixture.nexusA, seed: 6).hasSense(.logicalUnitNotAccessibleAsymmetricAccessStateTransition))
        #expect(await Self.read(b, nexus: TestFixture.nexusB) == pattern(blocks: 1, seed: 5))
    }

    @Test("failback: the home gateway started again takes its unit back from the one that held it meanwhile")
    func failbackToHome() async {
        let cluster = Cluster()
        let b = await cluster.gateway(2)
        // No owner yet and the home is not up: B claims it.
        #expect(await cluster.untilHeld(by: 2))
        let a = await cluster.gateway(1)
        #expect(await cluster.untilHeld(by: 1))
        #expect(cluster.lock.violations.isEmpty)
        let states = await Self.states(b, nexus: TestFixture.nexusB)
        #expect(states[1]?.state == AsymmetricAccessState.activeOptimized.rawValue)
        #expect(await Self.write(a, nexus: TestFixture.nexusA, seed: 9).status == .good)
    }

    @Test("no failback: the home gateway started again leaves the unit where it is, and no group is PREF")
    func noFailback() async {
        let cluster = Cluster()
        let b = await cluster.gateway(2, failback: false)
        #expect(await cluster.untilHeld(by: 2))
        let a = await cluster.gateway(1, failback: false)
        try? await Task.sleep(for: .milliseconds(50))
        #expect(cluster.lock.holder == 2)
        // Nor is the home marked preferred: a Linux host would send its I/O there, and
        // its writes would move the unit back after all.
        let states = await Self.states(a, nexus: TestFixture.nexusA)
        #expect(states[2]?.state == AsymmetricAccessState.activeOptimized.rawValue && states[2]?.preferred == false)
        #expect(states[1]?.state == AsymmetricAccessState.activeNonOptimized.rawValue && states[1]?.preferred == false)
        withExtendedLifetime(b) {}
    }

    @Test("an owner that cannot give the lock up does not acknowledge the change, so the cluster fences it")
    func failedReleaseIsNotAcknowledged() async {
        let cluster = Cluster()
        let a = await cluster.gateway(1)
        #expect(await cluster.untilHeld(by: 1))
        let b = await cluster.gateway(2)
        cluster.lock.failReleases(of: 1)
        _ = await Self.write(b, nexus: TestFixture.nexusB, seed: 2)
        #expect(cluster.space.refusingGateways == [1])
        withExtendedLifetime(a) {}
    }

    @Test("a clean stop leaves the unit without an owner, and another gateway claims it at once")
    func relinquishedAtStop() async {
        let cluster = Cluster()
        let a = await cluster.gateway(1)
        #expect(await cluster.untilHeld(by: 1))
        let b = await cluster.gateway(2)
        await a.relinquishOwnership()
        #expect(await cluster.untilHeld(by: 2))
        #expect(cluster.lock.violations.isEmpty)
        let states = await Self.states(b, nexus: TestFixture.nexusB)
        #expect(states[2]?.state == AsymmetricAccessState.activeOptimized.rawValue)
    }

    @Test("an owner-mode unit's states follow its owner: the operator cannot set them, nor SET TARGET PORT GROUPS")
    func statesNotSetByHand() async {
        let cluster = Cluster()
        let a = await cluster.gateway(1)
        #expect(await cluster.untilHeld(by: 1))
        await #expect(throws: SCSIEngineError.self) {
            try await a.setALUAState(.standby, forTargetPortGroup: 2, lun: 0, preferred: nil)
        }
        #expect(cluster.lock.holder == 1)
    }

    @Test("the owner survives the record's text")
    func ownerInText() async {
        let change = ReservationChange(
            name: "u", record: ReservationRecord(text: "swiftport-persistent-reservations 1\ngeneration 0\nowner 2\n", version: .init(rawValue: 4)))
        #expect(ReservationChange(serialized: change.serialized) == change)
        #expect(ReservationChange(serialized: change.serialized.replacing("owner 2", with: "owner x")) == nil)
    }
}

import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// Persistent reservations shared by the device servers of several gateways
/// (``SharedReservationStore``): one logical unit, one set of registrations and one
/// reservation, whatever gateway a command comes through (SPC-4 §5.12).
@Suite("SPC-4 §5.12 reservations shared across gateways")
struct SPC4SharedReservationTests {
    typealias PR = SPC4PersistentReservationTests
    /// nexusA logs in through gateway A's port 1, nexusB through gateway B's port 2.
    static let unit = TestFixture.descriptor(device: RAMBlockDevice(blockCount: 2048))
    static let recordName = LogicalUnitDescriptor.naaIdentifier(seed: "\(TestFixture.targetName)/0")
        .map { String($0 >> 4, radix: 16) + String($0 & 0x0F, radix: 16) }.joined()

    static func gateway(_ number: Int, of space: TestSharedReservationSpace, nexus: ITNexus) async -> SCSITargetDevice {
        let target = await SCSITargetDevice.restoring(
            targetName: TestFixture.targetName, logicalUnits: [unit], logger: TestFixture.logger,
            reservationStore: space.gateway(number))
        await TestFixture.ready(target, nexus: nexus)
        return target
    }

    static func write(_ target: SCSITargetDevice, nexus: ITNexus) async -> SCSICommandResult {
        await target.execute(TestFixture.command(CDB.write10(lba: 0, blocks: 1), dataOut: pattern(blocks: 1), nexus: nexus))
    }

    @Test("§5.12.11.4 PREEMPT through gateway B is in effect through gateway A before it answers GOOD")
    func preemptAcrossGateways() async {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        let b = await Self.gateway(2, of: space, nexus: TestFixture.nexusB)
        #expect(await PR.out(a, 0, serviceActionKey: PR.keyA).status == .good)
        #expect(await PR.out(a, 1, type: 0x01, key: PR.keyA).status == .good)
        // B judges by A's Write Exclusive reservation.
        #expect(await Self.write(b, nexus: TestFixture.nexusB).status == .reservationConflict)
        #expect(await PR.out(b, 0, serviceActionKey: PR.keyB, nexus: TestFixture.nexusB).status == .good)
        #expect(await PR.out(b, 4, type: 0x01, key: PR.keyB, serviceActionKey: PR.keyA, nexus: TestFixture.nexusB).status == .good)
        // A's initiator hears it was preempted, then meets the conflict; never GOOD.
        #expect(await Self.write(a, nexus: TestFixture.nexusA).hasSense(.registrationsPreempted))
        #expect(await Self.write(a, nexus: TestFixture.nexusA).status == .reservationConflict)
        #expect(await Self.write(b, nexus: TestFixture.nexusB).status == .good)
        #expect(await PR.keys(a).keys == [PR.keyB])
        #expect(await PR.keys(a).generation == 3)  // RESERVE does not count (§6.15.2)
        #expect(space.published.count == 4)
    }

    @Test("a change saved by another gateway between the read and the save: performed again on the latest record")
    func conflictStartsAgain() async {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        space.beforeSaves {
            space.overwrite(
                Self.recordName,
                text: "swiftport-persistent-reservations 1\ngeneration 1\nregistration 000000000000CCCC 2 iqn.2024-01.test:b,i,0x400001370002\n")
        }
        #expect(await PR.out(a, 0, serviceActionKey: PR.keyA).status == .good)
        #expect(await PR.keys(a) == (generation: 2, keys: [0xCCCC, PR.keyA]))
    }

    @Test("a record changed on every attempt: BUSY after the last, nothing half done")
    func endlessContentionIsBusy() async {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        space.beforeSaves(1000) {
            space.overwrite(Self.recordName, text: "swiftport-persistent-reservations 1\ngeneration 9\n")
        }
        #expect(await PR.out(a, 0, serviceActionKey: PR.keyA).status == .busy)
        #expect(await PR.keys(a).keys.isEmpty)
        #expect(space.published.isEmpty)
    }

    @Test("§5.12.5 the shared record is durable: PTPL_A without APTPL, and a gateway started later has it")
    func sharedRecordPersists() async {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        #expect(await PR.out(a, 0, serviceActionKey: PR.keyA).status == .good)
        let capabilities = await a.execute(TestFixture.command(CDB.persistentReserveIn(2))).data
        #expect(capabilities[3] & 0x01 == 0x01)
        let c = await Self.gateway(3, of: space, nexus: TestFixture.nexusA)
        #expect(await PR.keys(c).keys == [PR.keyA])
    }

    @Test("a gateway started later installs the whole record, the SPC-2 holder through another gateway among it")
    func recordInstalledWholeAtStart() async {
        let space = TestSharedReservationSpace()
        space.overwrite(
            Self.recordName,
            text: "swiftport-persistent-reservations 1\ngeneration 0\nspc2-reservation 2 2 iqn.2024-01.test:b,i,0x400001370002\n")
        let a = await SCSITargetDevice.restoring(
            targetName: TestFixture.targetName, logicalUnits: [Self.unit], logger: TestFixture.logger, reservationStore: space.gateway(1))
        // Not TestFixture.ready: TEST UNIT READY conflicts with the SPC-2 reservation.
        for nexus in [TestFixture.nexusA, TestFixture.nexusB] {
            a.nexusLogin(nexus)
            await SPC4ALUATests.clearUnitAttentions(a, nexus: nexus)
        }
        #expect(await a.execute(TestFixture.command(CDB.reserve6)).status == .reservationConflict)
        #expect(await Self.write(a, nexus: TestFixture.nexusA).status == .reservationConflict)
        #expect(await Self.write(a, nexus: TestFixture.nexusB).status == .good)
    }

    @Test("§5.15.2.2 an ALUA state the operator sets through gateway A is what gateway B reports and serves by, its nexuses told")
    func accessStatesAcrossGateways() async throws {
        let space = TestSharedReservationSpace()
        var gateways: [SCSITargetDevice] = []
        for (number, nexus) in [(1, TestFixture.nexusA), (2, TestFixture.nexusB)] {
            let target = await SCSITargetDevice.restoring(
                targetName: TestFixture.targetName, logicalUnits: [Self.unit], logger: TestFixture.logger,
                reservationStore: space.gateway(number), targetPortGroups: SharedOwnershipTests.groups)
            await TestFixture.ready(target, nexus: nexus)
            gateways.append(target)
        }
        let (a, b) = (gateways[0], gateways[1])
        try await a.setALUAState(.standby, forTargetPortGroup: 2, lun: 0, preferred: true)
        #expect(await b.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB)).hasSense(.asymmetricAccessStateChanged))
        #expect(await Self.write(b, nexus: TestFixture.nexusB).hasSense(.logicalUnitNotAccessibleTargetPortInStandbyState))
        let states = await SharedOwnershipTests.states(b, nexus: TestFixture.nexusB)
        #expect(states[2]?.state == AsymmetricAccessState.standby.rawValue && states[2]?.preferred == true)
        #expect(states[1]?.state == AsymmetricAccessState.activeOptimized.rawValue)
        #expect(b.aluaStatus.first { $0.targetPortGroup == 2 }?.lastChange == .implicit)
        // The record carries it, so a gateway started later reports it too.
        let later = await SCSITargetDevice.restoring(
            targetName: TestFixture.targetName, logicalUnits: [Self.unit], logger: TestFixture.logger,
            reservationStore: space.gateway(3), targetPortGroups: SharedOwnershipTests.groups)
        #expect(later.aluaStatus.first { $0.targetPortGroup == 2 }?.state == .standby)
        try await b.setALUAState(.activeOptimized, forTargetPortGroup: 2, lun: nil, preferred: nil)
        #expect(a.aluaStatus.first { $0.targetPortGroup == 2 }?.state == .activeOptimized)
        #expect(ReservationChange(serialized: space.published.last!.serialized) == space.published.last)
    }

    @Test("SPC-2 §5.5.1 RESERVE(6) through A holds through B until A releases it")
    func spc2ReservationAcrossGateways() async {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        let b = await Self.gateway(2, of: space, nexus: TestFixture.nexusB)
        #expect(await a.execute(TestFixture.command(CDB.reserve6)).status == .good)
        #expect(await b.execute(TestFixture.command(CDB.reserve6, nexus: TestFixture.nexusB)).status == .reservationConflict)
        #expect(await Self.write(b, nexus: TestFixture.nexusB).status == .reservationConflict)
        #expect(await a.execute(TestFixture.command(CDB.release6)).status == .good)
        #expect(await b.execute(TestFixture.command(CDB.reserve6, nexus: TestFixture.nexusB)).status == .good)
        #expect(await Self.write(a, nexus: TestFixture.nexusA).status == .reservationConflict)
    }

    @Test("SAM-5 §7.7 LOGICAL UNIT RESET through A: B's nexus hears of it, and the SPC-2 reservation ends on both")
    func resetAcrossGateways() async {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        let b = await Self.gateway(2, of: space, nexus: TestFixture.nexusB)
        #expect(await b.execute(TestFixture.command(CDB.reserve6, nexus: TestFixture.nexusB)).status == .good)
        _ = await a.taskManagement(.logicalUnitReset, lun: TestFixture.wireLUN(0), nexus: TestFixture.nexusA)
        let unitAttention = await b.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(unitAttention.hasSense(.busDeviceResetFunctionOccurred))
        await TestFixture.ready(a)
        #expect(await a.execute(TestFixture.command(CDB.reserve6)).status == .good)
    }

    @Test("SPC-2 §5.5.1 the holder's I_T nexus lost on A: the reservation ends through B too")
    func nexusLossAcrossGateways() async throws {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        let b = await Self.gateway(2, of: space, nexus: TestFixture.nexusB)
        #expect(await a.execute(TestFixture.command(CDB.reserve6)).status == .good)
        a.nexusLogout(TestFixture.nexusA)
        // The release reaches the record after nexusLogout returns: bounded wait.
        var status = SCSIStatus.reservationConflict
        for _ in 0..<100 where status != .good {
            status = await b.execute(TestFixture.command(CDB.reserve6, nexus: TestFixture.nexusB)).status
            if status != .good { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(status == .good)
    }

    @Test("SPC-2 §5.5.1 the gateway of target port group 2 fenced: the reservation held through it ends")
    func lostTargetPortGroup() async {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        let b = await Self.gateway(2, of: space, nexus: TestFixture.nexusB)
        #expect(await b.execute(TestFixture.command(CDB.reserve6, nexus: TestFixture.nexusB)).status == .good)
        await a.targetPortGroupLost(1)
        #expect(await a.execute(TestFixture.command(CDB.reserve6)).status == .reservationConflict)
        await a.targetPortGroupLost(2)
        #expect(await a.execute(TestFixture.command(CDB.reserve6)).status == .good)
    }

    @Test("a change's text carries its notices; other text is refused")
    func changeText() async throws {
        let space = TestSharedReservationSpace()
        let a = await Self.gateway(1, of: space, nexus: TestFixture.nexusA)
        await TestFixture.ready(a, nexus: TestFixture.nexusB)
        _ = await PR.out(a, 0, serviceActionKey: PR.keyA)
        _ = await PR.out(a, 0, serviceActionKey: PR.keyB, nexus: TestFixture.nexusB)
        _ = await PR.out(a, 3, key: PR.keyA)  // CLEAR: RESERVATIONS PREEMPTED for B
        let clear = try #require(space.published.last)
        #expect(clear.serialized.contains("notice reservations-preempted 2 iqn.2024-01.test:b,i,0x400001370002\n"))
        #expect(ReservationChange(serialized: clear.serialized) == clear)
        #expect(ReservationChange(serialized: "swiftport-reservation-change 1\nunit x\nversion y\n") == nil)
        #expect(ReservationChange(serialized: clear.serialized.replacing("reservations-preempted", with: "x")) == nil)
    }
}

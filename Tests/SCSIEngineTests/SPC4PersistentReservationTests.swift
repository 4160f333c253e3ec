import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// Persistent reservations (SPC-4 §5.12, §6.15, §6.16) and SPC-2 RESERVE/RELEASE.
@Suite("SPC-4 §5.12 persistent reservations")
struct SPC4PersistentReservationTests {
    static let keyA: UInt64 = 0xAAAA
    static let keyB: UInt64 = 0xBBBB

    /// A target with LUN 0; with a `store`, its reservations are restored from it.
    static func readyTarget(store: (any ReservationStore)? = nil) async -> SCSITargetDevice {
        let units = [TestFixture.descriptor(device: RAMBlockDevice(blockCount: 2048))]
        let target = if let store {
            await SCSITargetDevice.restoring(
                targetName: TestFixture.targetName, logicalUnits: units, logger: TestFixture.logger, reservationStore: store)
        } else {
            SCSITargetDevice(targetName: TestFixture.targetName, logicalUnits: units, logger: TestFixture.logger)
        }
        await TestFixture.ready(target)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        return target
    }

    static func out(
        _ target: SCSITargetDevice, _ action: UInt8, type: UInt8 = 0, key: UInt64 = 0, serviceActionKey: UInt64 = 0,
        aptpl: Bool = false, nexus: ITNexus = TestFixture.nexusA
    ) async -> SCSICommandResult {
        let list = CDB.reservationParameters(key: key, serviceActionKey: serviceActionKey, aptpl: aptpl)
        return await target.execute(TestFixture.command(CDB.persistentReserveOut(action, type: type), dataOut: list, nexus: nexus))
    }

    static func keys(_ target: SCSITargetDevice) async -> (generation: UInt32, keys: [UInt64]) {
        let data = await target.execute(TestFixture.command(CDB.persistentReserveIn(0))).data
        let generation = data[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let keys = stride(from: 8, to: data.count, by: 8).map { data[$0..<$0 + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return (generation, keys)
    }

    @Test("§6.16.2 REGISTER, READ KEYS and PRGENERATION")
    func registerAndReadKeys() async {
        let target = await Self.readyTarget()
        #expect(await Self.out(target, 0, serviceActionKey: Self.keyA).status == .good)
        #expect(await Self.out(target, 6, serviceActionKey: Self.keyB, nexus: TestFixture.nexusB).status == .good)
        let (generation, keys) = await Self.keys(target)
        #expect(generation == 2)
        #expect(keys == [Self.keyA, Self.keyB])
        // A registered nexus registering with the wrong key conflicts (§5.12.7).
        #expect(await Self.out(target, 0, key: 0x1234, serviceActionKey: 5).status == .reservationConflict)
    }

    @Test("§5.12.1 table 63: Exclusive Access keeps other nexuses from reading and writing")
    func exclusiveAccessConflicts() async {
        let target = await Self.readyTarget()
        _ = await Self.out(target, 0, serviceActionKey: Self.keyA)
        #expect(await Self.out(target, 1, type: 0x03, key: Self.keyA).status == .good)
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1), nexus: TestFixture.nexusB))
        #expect(read.status == .reservationConflict)
        #expect(await target.execute(TestFixture.command(CDB.inquiry(), nexus: TestFixture.nexusB)).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1))).status == .good)
        let reservation = await target.execute(TestFixture.command(CDB.persistentReserveIn(1))).data
        #expect(reservation.count == 24)
        #expect(reservation[21] == 0x03)
    }

    @Test("SBC-3 table 13: Write Exclusive Registrants Only admits registrants, reads for all")
    func writeExclusiveRegistrantsOnly() async {
        let target = await Self.readyTarget()
        _ = await Self.out(target, 0, serviceActionKey: Self.keyA)
        #expect(await Self.out(target, 1, type: 0x05, key: Self.keyA).status == .good)
        let write = TestFixture.command(CDB.write10(lba: 0, blocks: 1), dataOut: pattern(blocks: 1), nexus: TestFixture.nexusB)
        #expect(await target.execute(write).status == .reservationConflict)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1), nexus: TestFixture.nexusB)).status == .good)
        _ = await Self.out(target, 0, serviceActionKey: Self.keyB, nexus: TestFixture.nexusB)
        #expect(await target.execute(write).status == .good)
    }

    @Test("§5.12.11.4 PREEMPT removes the holder and tells it REGISTRATIONS PREEMPTED")
    func preempt() async {
        let target = await Self.readyTarget()
        _ = await Self.out(target, 0, serviceActionKey: Self.keyA)
        _ = await Self.out(target, 0, serviceActionKey: Self.keyB, nexus: TestFixture.nexusB)
        _ = await Self.out(target, 1, type: 0x01, key: Self.keyA)
        let preempt = await Self.out(target, 4, type: 0x03, key: Self.keyB, serviceActionKey: Self.keyA, nexus: TestFixture.nexusB)
        #expect(preempt.status == .good)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).hasSense(.registrationsPreempted))
        #expect(await Self.keys(target).keys == [Self.keyB])
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1)))
        #expect(read.status == .reservationConflict)
    }

    @Test("§5.12.11.2 RELEASE of a registrants-only reservation: RESERVATIONS RELEASED to the others")
    func releaseNotifies() async {
        let target = await Self.readyTarget()
        _ = await Self.out(target, 0, serviceActionKey: Self.keyA)
        _ = await Self.out(target, 0, serviceActionKey: Self.keyB, nexus: TestFixture.nexusB)
        _ = await Self.out(target, 1, type: 0x06, key: Self.keyA)
        #expect(await Self.out(target, 2, type: 0x01, key: Self.keyA).hasSense(.invalidReleaseOfPersistentReservation))
        #expect(await Self.out(target, 2, type: 0x06, key: Self.keyA).status == .good)
        let other = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(other.hasSense(.reservationsReleased))
    }

    @Test("§5.12.11.3 CLEAR: RESERVATIONS PREEMPTED to the other registrants, generation bumped")
    func clear() async {
        let target = await Self.readyTarget()
        _ = await Self.out(target, 0, serviceActionKey: Self.keyA)
        _ = await Self.out(target, 0, serviceActionKey: Self.keyB, nexus: TestFixture.nexusB)
        #expect(await Self.out(target, 3, key: Self.keyA).status == .good)
        let (generation, keys) = await Self.keys(target)
        #expect(generation == 3)
        #expect(keys.isEmpty)
        let other = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(other.hasSense(.reservationsPreempted))
    }

    @Test("§6.15.4 REPORT CAPABILITIES: every type, PTPL_C only with a state directory")
    func reportCapabilities() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.persistentReserveIn(2))).data
        #expect(data == [0, 8, 0x1C, 0x90, 0xEA, 0x01, 0, 0])
    }

    @Test("§6.15.5 READ FULL STATUS: holder flag, type and the iSCSI TransportID")
    func readFullStatus() async {
        let target = await Self.readyTarget()
        _ = await Self.out(target, 0, serviceActionKey: Self.keyA)
        _ = await Self.out(target, 1, type: 0x01, key: Self.keyA)
        let data = await target.execute(TestFixture.command(CDB.persistentReserveIn(3))).data
        #expect(Array(data[8..<16]) == Self.keyA.bigEndianBytes)
        #expect(data[20] == 0x01 && data[21] == 0x01)
        #expect(Array(data[26..<28]) == [0, 1])  // relative target port 1
        let name = Array(TestFixture.nexusA.initiatorPortName.utf8)
        #expect(data[32] == 0x45)  // FORMAT CODE 01b, iSCSI
        #expect(Array(data[36..<(36 + name.count)]) == name)
    }

    @Test("§5.12.5 APTPL: registrations and the reservation survive a restart")
    func persistThroughPowerLoss() async throws {
        let store = TestReservationStore()
        let first = await Self.readyTarget(store: store)
        #expect(await Self.out(first, 0, serviceActionKey: Self.keyA, aptpl: true).status == .good)
        // A second save names the version of the first (no conflict).
        #expect(await Self.out(first, 1, type: 0x03, key: Self.keyA).status == .good)
        #expect(await store.events == [.saved, .saved])
        let second = await Self.readyTarget(store: store)
        #expect(await Self.keys(second).keys == [Self.keyA])
        let read = await second.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1), nexus: TestFixture.nexusB))
        #expect(read.status == .reservationConflict)
        let caps = await second.execute(TestFixture.command(CDB.persistentReserveIn(2))).data
        #expect(caps[2] & 0x01 == 0x01 && caps[3] & 0x01 == 0x01)  // PTPL_C, PTPL_A
    }

    @Test("SPC-2 §7.21 RESERVE(6) excludes other nexuses until RELEASE, LU reset or nexus loss")
    func spc2Reserve() async {
        let target = await Self.readyTarget()
        #expect(await target.execute(TestFixture.command(CDB.reserve6)).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.reserve6, nexus: TestFixture.nexusB)).status == .reservationConflict)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB)).status == .reservationConflict)
        #expect(await target.execute(TestFixture.command(CDB.release6, nexus: TestFixture.nexusB)).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.persistentReserveIn(0))).status == .reservationConflict)
        target.nexusLogout(TestFixture.nexusA)
        #expect(await target.execute(TestFixture.command(CDB.reserve6, nexus: TestFixture.nexusB)).status == .good)
        _ = await target.taskManagement(.logicalUnitReset, lun: TestFixture.wireLUN(0), nexus: TestFixture.nexusA)
        _ = await target.execute(TestFixture.command(CDB.testUnitReady))  // the reset's unit attention
        #expect(await target.execute(TestFixture.command(CDB.reserve6)).status == .good)
    }
}

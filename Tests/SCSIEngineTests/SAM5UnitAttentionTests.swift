import SCSIEngine
import SCSIProtocol
import Testing

/// Unit attention conditions (SAM-5 §5.14, SPC-4 §5.14) and the ones task management
/// establishes (SAM-5 §7).
@Suite("SAM-5 §5.14 unit attention")
struct SAM5UnitAttentionTests {
    @Test("§5.14 a new I_T nexus gets POWER ON, RESET, OR BUS DEVICE RESET OCCURRED once")
    func powerOnOnce() async {
        let target = TestFixture.target()
        target.nexusLogin(TestFixture.nexusA)
        let first = await target.execute(TestFixture.command(CDB.testUnitReady))
        #expect(first.hasSense(.powerOnResetOrBusDeviceResetOccurred))
        let second = await target.execute(TestFixture.command(CDB.testUnitReady))
        #expect(second.status == .good)
        target.nexusLogin(TestFixture.nexusA)  // a re-login of a known nexus owes nothing
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status == .good)
    }

    @Test("§5.14 INQUIRY and REPORT LUNS neither report nor clear a unit attention")
    func exemptCommands() async {
        let target = TestFixture.target()
        target.nexusLogin(TestFixture.nexusA)
        #expect(await target.execute(TestFixture.command(CDB.inquiry())).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.reportLUNs())).status == .good)
        let tur = await target.execute(TestFixture.command(CDB.testUnitReady))
        #expect(tur.hasSense(.powerOnResetOrBusDeviceResetOccurred))
    }

    @Test("SPC-4 §6.29 REQUEST SENSE returns the pending unit attention and clears it")
    func requestSenseReturnsUnitAttention() async {
        let target = TestFixture.target()
        target.nexusLogin(TestFixture.nexusA)
        let sense = await target.execute(TestFixture.command(CDB.requestSense()))
        #expect(sense.status == .good)
        #expect(sense.data.count == 18)
        #expect(sense.data[0] == 0x70)
        #expect((sense.data[2], sense.data[12], sense.data[13]) == (0x06, 0x29, 0x00))
        let again = await target.execute(TestFixture.command(CDB.requestSense()))
        #expect((again.data[2], again.data[12], again.data[13]) == (0x00, 0x00, 0x00))
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status == .good)
    }

    @Test("§7.7 LOGICAL UNIT RESET: BUS DEVICE RESET FUNCTION OCCURRED to every nexus, the issuer included")
    func logicalUnitReset() async {
        let target = TestFixture.target()
        await TestFixture.ready(target, nexus: TestFixture.nexusA)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        let outcome = await target.taskManagement(
            .logicalUnitReset, lun: TestFixture.wireLUN(0), nexus: TestFixture.nexusA)
        #expect(outcome == .functionComplete)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).hasSense(.busDeviceResetFunctionOccurred))
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status == .good)
        let other = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(other.hasSense(.busDeviceResetFunctionOccurred))
    }

    @Test("§7.4 CLEAR TASK SET: COMMANDS CLEARED BY ANOTHER INITIATOR to the other nexus")
    func clearTaskSet() async {
        let target = TestFixture.target()
        await TestFixture.ready(target, nexus: TestFixture.nexusA)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        _ = await target.taskManagement(.clearTaskSet, lun: TestFixture.wireLUN(0), nexus: TestFixture.nexusA)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status == .good)
        let other = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(other.hasSense(.commandsClearedByAnotherInitiator))
    }

    @Test("RFC 7143 §11.5.1 TARGET COLD RESET: every nexus is owed the power-on condition again")
    func targetColdReset() async {
        let target = TestFixture.target()
        await TestFixture.ready(target)
        _ = await target.taskManagement(.targetColdReset, lun: 0, nexus: TestFixture.nexusA)
        let tur = await target.execute(TestFixture.command(CDB.testUnitReady))
        #expect(tur.hasSense(.powerOnResetOrBusDeviceResetOccurred))
    }

    @Test("§7.7 task management to a LUN with no logical unit")
    func taskManagementToMissingLUN() async {
        let target = TestFixture.target()
        let outcome = await target.taskManagement(
            .logicalUnitReset, lun: TestFixture.wireLUN(9), nexus: TestFixture.nexusA)
        #expect(outcome == .logicalUnitDoesNotExist)
    }
}

import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// REPORT LUNS (SPC-4 §6.33) and commands to a LUN with no logical unit (SAM-5 §5.8).
@Suite("SPC-4 §6.33 REPORT LUNS and non-existent LUNs")
struct SPC4ReportLUNsTests {
    let target = TestFixture.target([
        TestFixture.descriptor(lun: 0, device: RAMBlockDevice(blockCount: 64)),
        TestFixture.descriptor(lun: 3, device: RAMBlockDevice(blockCount: 64)),
        TestFixture.descriptor(lun: 300, device: RAMBlockDevice(blockCount: 64)),
    ])

    @Test("§6.33 lists every LUN; peripheral addressing below 256, flat space above", arguments: [UInt8(0), 2])
    func listsLUNs(select: UInt8) async {
        let result = await target.execute(TestFixture.command(CDB.reportLUNs(select: select)))
        #expect(result.status == .good)
        #expect(result.data == [0, 0, 0, 24, 0, 0, 0, 0]
            + [0, 0, 0, 0, 0, 0, 0, 0]
            + [0, 3, 0, 0, 0, 0, 0, 0]
            + [0x41, 0x2C, 0, 0, 0, 0, 0, 0])
    }

    @Test("§6.33 works through a LUN with no logical unit")
    func worksFromMissingLUN() async {
        let result = await target.execute(TestFixture.command(CDB.reportLUNs(), lun: 42))
        #expect(result.status == .good)
        #expect(result.data.count == 32)
    }

    @Test("§6.33 ALLOCATION LENGTH below 16 is INVALID FIELD IN CDB")
    func shortAllocation() async {
        let result = await target.execute(TestFixture.command(CDB.reportLUNs(allocation: 15)))
        #expect(result.hasSense(.invalidFieldInCDB))
    }

    @Test("§6.33 an allocation length of 16 truncates the list")
    func truncates() async {
        let result = await target.execute(TestFixture.command(CDB.reportLUNs(allocation: 16)))
        #expect(result.data == [0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("§6.33 unsupported SELECT REPORT is INVALID FIELD IN CDB")
    func badSelectReport() async {
        #expect(await target.execute(TestFixture.command(CDB.reportLUNs(select: 0x07))).hasSense(.invalidFieldInCDB))
    }

    @Test("SAM-5 §4.7.7 flat space addressing reaches the same logical unit")
    func flatAddressing() async {
        var command = TestFixture.command(CDB.inquiry())
        command.lun = 0x4003_0000_0000_0000
        #expect(await target.execute(command).data.first == 0x00)
    }

    @Test("SPC-4 §6.29 REQUEST SENSE to a missing LUN returns LOGICAL UNIT NOT SUPPORTED")
    func requestSenseMissingLUN() async {
        let result = await target.execute(TestFixture.command(CDB.requestSense(), lun: 9))
        #expect(result.status == .good)
        #expect((result.data[2], result.data[12], result.data[13]) == (0x05, 0x25, 0x00))
    }

    @Test("SAM-5 §5.8 other commands to a missing LUN: LOGICAL UNIT NOT SUPPORTED",
          arguments: [CDB.testUnitReady, CDB.read10(lba: 0, blocks: 1), CDB.readCapacity10])
    func otherCommandsMissingLUN(cdb: [UInt8]) async {
        #expect(await target.execute(TestFixture.command(cdb, lun: 9)).hasSense(.logicalUnitNotSupported))
    }
}

import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// INQUIRY (SPC-4 §6.6) and the VPD pages (SPC-4 §7.8, SBC-3 §6.5).
@Suite("SPC-4 §6.6 INQUIRY")
struct SPC4InquiryTests {
    let target = TestFixture.target()

    @Test("§6.6.2 standard INQUIRY data layout")
    func standardInquiry() async {
        let result = await target.execute(TestFixture.command(CDB.inquiry()))
        #expect(result.status == .good)
        let data = result.data
        #expect(data.count == 96)
        #expect(data[0] == 0x00)  // qualifier 000b, direct access block device
        #expect(data[2] == 0x06)  // SPC-4
        #expect(data[3] == 0x12)  // HISUP, response data format 2
        #expect(data[4] == 91)  // additional length
        #expect(data[7] & 0x02 != 0)  // CMDQUE
        #expect(Array(data[8..<16]) == Array("SWIFTPRT".utf8))
        #expect(Array(data[16..<32]) == Array("VIRTUAL-DISK    ".utf8))
        #expect(Array(data[32..<36]) == Array("0001".utf8))
        #expect(Array(data[58..<60]) == [0x00, 0xA0])  // SAM-5 version descriptor
    }

    @Test("§4.2.5.6 allocation length truncates without error", arguments: [0, 5, 36, 95])
    func allocationLengthTruncates(length: Int) async {
        let result = await target.execute(TestFixture.command(CDB.inquiry(allocation: UInt16(length))))
        #expect(result.status == .good)
        #expect(result.data.count == length)
    }

    @Test("§6.6.1 PAGE CODE with EVPD=0 is INVALID FIELD IN CDB with field pointer")
    func pageCodeWithoutEVPD() async {
        let result = await target.execute(TestFixture.command(CDB.inquiry(evpd: false, page: 0x80)))
        #expect(result.hasSense(.invalidFieldInCDB))
        #expect(Array(result.sense?[15..<18] ?? []) == [0xC0, 0x00, 0x02])  // SKSV, C/D, byte 2
    }

    @Test("§6.6.2 non-existent LUN answers qualifier 011b, type 1Fh")
    func nonExistentLUN() async {
        let result = await target.execute(TestFixture.command(CDB.inquiry(), lun: 7))
        #expect(result.status == .good)
        #expect(result.data.first == 0x7F)
    }

    @Test("§7.8.16 Supported VPD Pages lists pages in ascending order")
    func supportedPages() async {
        let data = await target.execute(TestFixture.command(CDB.inquiry(evpd: true, page: 0x00))).data
        #expect(data == [0x00, 0x00, 0x00, 0x08, 0x00, 0x80, 0x83, 0x86, 0x8F, 0xB0, 0xB1, 0xB2])
    }

    @Test("§7.8.18 Unit Serial Number page")
    func unitSerialNumber() async {
        let data = await target.execute(TestFixture.command(CDB.inquiry(evpd: true, page: 0x80))).data
        #expect(data == [0x00, 0x80, 0x00, 0x09] + Array("SP0SERIAL".utf8))
    }

    @Test("§7.8.6 Device Identification: NAA, relative target port, TPG, SCSI name string")
    func deviceIdentification() async {
        let data = await target.execute(
            TestFixture.command(CDB.inquiry(evpd: true, page: 0x83), nexus: TestFixture.nexusB)).data
        #expect(Array(data[0..<2]) == [0x00, 0x83])
        #expect(Int(data[2]) << 8 | Int(data[3]) == data.count - 4)
        // NAA: binary, LU association, type 3, 16 bytes, NAA 6.
        #expect(Array(data[4..<8]) == [0x01, 0x03, 0x00, 0x10])
        #expect(data[8] >> 4 == 0x6)
        #expect(Array(data[8..<24]) == LogicalUnitDescriptor.naaIdentifier(seed: "\(TestFixture.targetName)/0"))
        // Relative target port: iSCSI, PIV, port association, type 4.
        #expect(Array(data[24..<32]) == [0x51, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02])
        // Target port group: type 5.
        #expect(Array(data[32..<40]) == [0x51, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02])
        // SCSI name string: UTF-8, target device association, type 8, NUL padded to 4.
        #expect(Array(data[40..<42]) == [0x53, 0xA8])
        let length = Int(data[43])
        #expect(length % 4 == 0)
        let name = Array(data[44..<(44 + length)])
        #expect(Array(name.prefix(TestFixture.targetName.utf8.count)) == Array(TestFixture.targetName.utf8))
        #expect(name.last == 0)
        #expect(44 + length == data.count)
    }

    @Test("NAA 6 designator is stable and distinct per seed")
    func naaIdentifierIsStable() {
        let first = LogicalUnitDescriptor.naaIdentifier(seed: "iqn.x/0")
        #expect(first == LogicalUnitDescriptor.naaIdentifier(seed: "iqn.x/0"))
        #expect(first != LogicalUnitDescriptor.naaIdentifier(seed: "iqn.x/1"))
        #expect(first.count == 16)
        #expect(first[0] >> 4 == 6)
    }

    @Test("SBC-3 §6.5.3 Block Limits page advertises the enforced transfer limit")
    func blockLimits() async {
        let data = await target.execute(TestFixture.command(CDB.inquiry(evpd: true, page: 0xB0))).data
        #expect(data.count == 64)
        #expect(Array(data[0..<4]) == [0x00, 0xB0, 0x00, 0x3C])
        #expect(data[4] & 0x01 == 0)  // WSNZ clear: 0 blocks means "to the end"
        let maximumTransfer = data[8..<12].reduce(0) { $0 << 8 | Int($1) }
        #expect(maximumTransfer == (8 << 20) / 512)
        let large = TestFixture.target([TestFixture.descriptor(device: RAMBlockDevice(blockCount: 1 << 20))])
        await TestFixture.ready(large)
        let tooLong = await large.execute(TestFixture.command(CDB.read16(lba: 0, blocks: UInt32(maximumTransfer + 1))))
        #expect(tooLong.hasSense(.invalidFieldInCDB))
        #expect(Array(tooLong.sense?[15..<18] ?? []) == [0xC0, 0x00, 0x0A])  // TRANSFER LENGTH at byte 10
    }

    @Test("SBC-3 §6.5.2 Block Device Characteristics: non-rotating medium")
    func blockDeviceCharacteristics() async {
        let data = await target.execute(TestFixture.command(CDB.inquiry(evpd: true, page: 0xB1))).data
        #expect(data.count == 64)
        #expect(Array(data[0..<6]) == [0x00, 0xB1, 0x00, 0x3C, 0x00, 0x01])
    }

    @Test("SBC-3 §6.5.13 Logical Block Provisioning: LBPU, LBPWS, LBPWS10, LBPRZ, thin")
    func logicalBlockProvisioning() async {
        let data = await target.execute(TestFixture.command(CDB.inquiry(evpd: true, page: 0xB2))).data
        #expect(data == [0x00, 0xB2, 0x00, 0x04, 0x00, 0xE4, 0x02, 0x00])
    }

    @Test("§6.6.1 unsupported VPD page is INVALID FIELD IN CDB")
    func unsupportedPage() async {
        let result = await target.execute(TestFixture.command(CDB.inquiry(evpd: true, page: 0x89)))
        #expect(result.hasSense(.invalidFieldInCDB))
    }
}

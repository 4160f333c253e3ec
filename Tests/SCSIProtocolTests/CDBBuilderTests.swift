import SCSIProtocol
import Testing

/// The initiator's CDB builders produce what the device server's CDB accessors read:
/// the same fields, through ``CommandDescriptorBlock/mediaAccess``,
/// ``CommandDescriptorBlock/allocationLength`` and ``CommandDescriptorBlock/validate()``.
@Suite("CDB builders")
struct CDBBuilderTests {
    @Test("SBC-3 READ(16), WRITE(16) with FUA, SYNCHRONIZE CACHE(16): LBA, length and FUA read back")
    func mediaAccess() throws {
        let read = CommandDescriptorBlock.read16(lba: 0x0102_0304_0506_0708, blockCount: 0x1_0000)
        #expect(read.operationCode == .read16)
        #expect(read.mediaAccess.lba == 0x0102_0304_0506_0708 && read.mediaAccess.blockCount == 0x1_0000)
        #expect(!read.mediaAccess.forceUnitAccess)
        let write = CommandDescriptorBlock.write16(lba: 7, blockCount: 8, forceUnitAccess: true)
        #expect((write.operationCode, write.mediaAccess.lba, write.mediaAccess.blockCount) == (.write16, 7, 8))
        #expect(write.mediaAccess.forceUnitAccess)
        let sync = CommandDescriptorBlock.synchronizeCache16()
        #expect((sync.operationCode, sync.mediaAccess.lba, sync.mediaAccess.blockCount) == (.synchronizeCache16, 0, 0))
        for cdb in [read, write, sync] {
            #expect(cdb.bytes.count == 16)
            try cdb.validate()
        }
    }

    @Test("SPC-4 INQUIRY, REPORT LUNS, RTPG, READ CAPACITY(16): operation code, service action and allocation length")
    func allocationLength() throws {
        let standard = CommandDescriptorBlock.inquiry(allocationLength: 96)
        #expect((standard.operationCode, standard[1], standard[2], standard.allocationLength) == (.inquiry, 0, 0, 96))
        let page = CommandDescriptorBlock.inquiry(page: .deviceIdentification, allocationLength: 1024)
        #expect((page[1], page[2], page.allocationLength) == (0x01, 0x83, 1024))
        let luns = CommandDescriptorBlock.reportLUNs(allocationLength: 4096)
        #expect((luns.operationCode, luns[2], luns.allocationLength) == (.reportLUNs, 0, 4096))
        let rtpg = CommandDescriptorBlock.reportTargetPortGroups(extendedHeader: true, allocationLength: 4096)
        #expect((rtpg.operationCode, rtpg.serviceAction, rtpg[1] >> 5, rtpg.allocationLength) == (.maintenanceIn, 0x0A, 1, 4096))
        let capacity = CommandDescriptorBlock.readCapacity16()
        #expect((capacity.operationCode, capacity.serviceAction, capacity.allocationLength) == (.serviceActionIn16, 0x10, 32))
        #expect(CommandDescriptorBlock.testUnitReady.bytes == [0, 0, 0, 0, 0, 0])
        #expect(CommandDescriptorBlock.readCapacity10.bytes.count == 10)
        for cdb in [standard, page, luns, rtpg, capacity, .testUnitReady, .readCapacity10] { try cdb.validate() }
    }
}

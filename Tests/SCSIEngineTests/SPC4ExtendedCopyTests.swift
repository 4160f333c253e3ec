import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// EXTENDED COPY (LID1, SPC-4 §6.3), RECEIVE COPY RESULTS (§6.18) and the
/// Third-party Copy VPD page (§7.8.17).
@Suite("SPC-4 §6.3 EXTENDED COPY")
struct SPC4ExtendedCopyTests {
    static func readyTarget() async -> SCSITargetDevice {
        let target = TestFixture.target([
            TestFixture.descriptor(lun: 0, device: RAMBlockDevice(blockCount: 2048)),
            TestFixture.descriptor(lun: 1, device: RAMBlockDevice(blockCount: 2048)),
        ])
        await TestFixture.ready(target)
        await TestFixture.ready(target, lun: 1)
        return target
    }

    /// An identification CSCD descriptor naming `lun` by NAA (SPC-4 §6.3.6.2).
    static func target(_ lun: UInt16) -> [UInt8] {
        let naa = LogicalUnitDescriptor.naaIdentifier(seed: "\(TestFixture.targetName)/\(lun)")
        var descriptor: [UInt8] = [0xE4, 0, 0, 0, 0x01, 0x03, 0, UInt8(naa.count)] + naa
        descriptor += [UInt8](repeating: 0, count: 28 - descriptor.count) + [0, 0, 0x02, 0x00]
        return descriptor
    }

    /// A block to block segment descriptor (SPC-4 §6.3.7.5).
    static func segment(source: UInt16, destination: UInt16, blocks: UInt16, from: UInt64, to: UInt64) -> [UInt8] {
        [0x02, 0, 0, 0x18] + source.bigEndianBytes + destination.bigEndianBytes + [0, 0] + blocks.bigEndianBytes
            + from.bigEndianBytes + to.bigEndianBytes
    }

    static func parameters(listIdentifier: UInt8 = 1, targets: [[UInt8]], segments: [[UInt8]]) -> [UInt8] {
        let targetBytes = targets.flatMap { $0 }, segmentBytes = segments.flatMap { $0 }
        return [listIdentifier, 0] + UInt16(targetBytes.count).bigEndianBytes + [0, 0, 0, 0]
            + UInt32(segmentBytes.count).bigEndianBytes + [0, 0, 0, 0] + targetBytes + segmentBytes
    }

    static func copy(_ target: SCSITargetDevice, _ list: [UInt8]) async -> SCSICommandResult {
        await target.execute(TestFixture.command(CDB.extendedCopy(length: UInt32(list.count)), dataOut: list))
    }

    @Test("§6.3 copies blocks from LUN 0 to LUN 1; COPY STATUS reports it")
    func copiesBetweenLogicalUnits() async {
        let target = await Self.readyTarget()
        let data = pattern(blocks: 8, seed: 5)
        _ = await target.execute(TestFixture.command(CDB.write10(lba: 16, blocks: 8), dataOut: data))
        let list = Self.parameters(
            listIdentifier: 7, targets: [Self.target(0), Self.target(1)],
            segments: [Self.segment(source: 0, destination: 1, blocks: 8, from: 16, to: 100)])
        #expect(await Self.copy(target, list).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 100, blocks: 8), lun: 1)).data == data)
        let status = await target.execute(TestFixture.command(CDB.receiveCopyResults(0, listIdentifier: 7))).data
        #expect(Array(status[0..<7]) == [0, 0, 0, 8, 0x00, 0, 1])
        #expect(await target.execute(TestFixture.command(CDB.receiveCopyResults(0, listIdentifier: 8))).hasSense(.invalidFieldInCDB))
    }

    @Test("§6.3 descriptor errors: unknown types, too many descriptors, unreachable target, range")
    func descriptorErrors() async {
        let target = await Self.readyTarget()
        var fibreChannel = Self.target(0)
        fibreChannel[0] = 0xE0
        let segment = Self.segment(source: 0, destination: 0, blocks: 1, from: 0, to: 1)
        #expect(await Self.copy(target, Self.parameters(targets: [fibreChannel], segments: [segment]))
            .hasSense(.unsupportedTargetDescriptorTypeCode))
        #expect(await Self.copy(target, Self.parameters(targets: Array(repeating: Self.target(0), count: 3), segments: [segment]))
            .hasSense(.tooManyTargetDescriptors))
        var stream = segment
        stream[0] = 0x00
        #expect(await Self.copy(target, Self.parameters(targets: [Self.target(0)], segments: [stream]))
            .hasSense(.unsupportedSegmentDescriptorTypeCode))
        let missing = Self.segment(source: 0, destination: 1, blocks: 1, from: 0, to: 1)
        #expect(await Self.copy(target, Self.parameters(targets: [Self.target(0)], segments: [missing]))
            .hasSense(.unreachableCopyTarget))
        let beyond = Self.segment(source: 0, destination: 0, blocks: 2, from: 0, to: 2047)
        #expect(await Self.copy(target, Self.parameters(targets: [Self.target(0)], segments: [beyond])).hasSense(.copyAborted))
        let truncated = Array(Self.parameters(targets: [Self.target(0)], segments: [segment]).dropLast())
        #expect(await Self.copy(target, truncated).hasSense(.parameterListLengthError))
    }

    @Test("§6.18.4 OPERATING PARAMETERS and §7.8.17 the Third-party Copy page agree")
    func operatingParameters() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.receiveCopyResults(3))).data
        #expect(Array(data[8..<12]) == [0, 2, 0, 16])
        #expect(Array(data[43...]) == [2, 0x02, 0xE4])
        let page = await target.execute(TestFixture.command(CDB.inquiry(evpd: true, page: 0x8F))).data
        #expect(page[1] == 0x8F)
        #expect(Array(page[4..<6]) == [0x00, 0x01])  // Supported Commands descriptor first
        let standard = await target.execute(TestFixture.command(CDB.inquiry())).data
        #expect(standard[5] & 0x08 == 0x08)  // 3PC
    }
}

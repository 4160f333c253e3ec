import ISCSITestSupport
import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// Logical units added and removed while the target runs (the Storport port driver's
/// dynamic devices; SPC-4 §6.33 REPORTED LUNS DATA HAS CHANGED).
@Suite("Live logical units")
struct LiveLogicalUnitTests {
    private static func reportedLUNs(_ target: SCSITargetDevice) async -> [UInt16] {
        let result = await target.execute(TestFixture.command(CDB.reportLUNs()))
        let data = result.data
        guard data.count >= 8 else { return [] }
        return stride(from: 8, to: data.count, by: 8).map { UInt16(data[$0] & 0x3F) << 8 | UInt16(data[$0 + 1]) }
    }

    @Test("an added unit answers at once, REPORT LUNS lists it, and the other units report REPORTED LUNS DATA HAS CHANGED to every nexus")
    func addedUnit() async throws {
        let target = TestFixture.target([TestFixture.descriptor(device: RAMBlockDevice(blockCount: 64))])
        await TestFixture.ready(target, nexus: TestFixture.nexusA)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        try await target.addLogicalUnit(TestFixture.descriptor(lun: 3, device: RAMBlockDevice(blockCount: 32)))

        for nexus in [TestFixture.nexusA, TestFixture.nexusB] {
            #expect(await target.execute(TestFixture.command(CDB.testUnitReady, nexus: nexus)).hasSense(.reportedLUNsDataHasChanged))
            #expect(await target.execute(TestFixture.command(CDB.testUnitReady, nexus: nexus)).status == .good)
        }
        #expect(await Self.reportedLUNs(target) == [0, 3])
        await TestFixture.ready(target, lun: 3)
        let data = pattern(blocks: 1, seed: 5)
        #expect(await target.execute(TestFixture.command(CDB.write10(lba: 1, blocks: 1), lun: 3, dataOut: data)).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 1, blocks: 1), lun: 3)).data == data)
        await #expect(throws: SCSIEngineError.self) {
            try await target.addLogicalUnit(TestFixture.descriptor(lun: 3, device: RAMBlockDevice(blockCount: 8)))
        }
    }

    @Test("removing a unit waits for the write in it to end; then it answers LOGICAL UNIT NOT SUPPORTED and the others go on")
    func removedUnitDrainsFirst() async throws {
        let held = FaultInjectingBlockDevice(wrapping: RAMBlockDevice(blockCount: 64), faults: .init())
        let target = TestFixture.target([
            TestFixture.descriptor(device: RAMBlockDevice(blockCount: 64)), TestFixture.descriptor(lun: 1, device: held),
        ])
        await TestFixture.ready(target)
        await TestFixture.ready(target, lun: 1)
        held.setFaults(.init(holdingWriteLBAs: [2]))
        let write = Task { await target.execute(TestFixture.command(CDB.write10(lba: 2, blocks: 1), lun: 1, dataOut: pattern(blocks: 1))) }
        for _ in 0..<600 where held.heldWriteCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try #require(held.heldWriteCount == 1)

        let removal = Task { try await target.removeLogicalUnit(1) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1), lun: 1)).hasSense(.logicalUnitNotSupported),
                "new commands are refused while the unit drains")
        #expect(await Self.reportedLUNs(target) == [0])
        held.releaseHeldWrites()
        #expect(await write.value.status == .good, "the write in the unit finished")
        let descriptor = try await removal.value
        #expect(descriptor.lun == 1)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).hasSense(.reportedLUNsDataHasChanged))
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1))).status == .good)
        await #expect(throws: SCSIEngineError.self) { try await target.removeLogicalUnit(1) }
    }
}

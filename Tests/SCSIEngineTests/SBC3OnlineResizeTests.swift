import BlockStorage
import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// Online resize by the operator: the new capacity and CAPACITY DATA HAS CHANGED on
/// every I_T nexus (SBC-3 §4.11, SAM-5 §5.14), on every backend that can resize.
@Suite("SBC-3 online resize")
struct SBC3OnlineResizeTests {
    typealias Backend = SBC3MediaAccessTests.Backend

    static func capacity(_ target: SCSITargetDevice, nexus: ITNexus = TestFixture.nexusA) async -> UInt64 {
        let data = await target.execute(TestFixture.command(CDB.readCapacity16(), nexus: nexus)).data
        return data.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } + 1
    }

    @Test("growing reports the new capacity after CAPACITY DATA HAS CHANGED on every nexus", arguments: Backend.allCases)
    func grow(backend: Backend) async throws {
        let target = await SBC3MediaAccessTests.readyTarget(try await SBC3MediaAccessTests.device(backend, blockCount: 2048))
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        let data = pattern(blocks: 2, seed: 5)
        _ = await target.execute(TestFixture.command(CDB.write10(lba: 2046, blocks: 2), dataOut: data))

        let geometry = try await target.resize(lun: 0, toBlockCount: 4096)
        #expect(geometry.blockCount == 4096)
        for nexus in [TestFixture.nexusA, TestFixture.nexusB] {
            let attention = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: nexus))
            #expect(attention.hasSense(.capacityDataHasChanged))
            #expect(await Self.capacity(target, nexus: nexus) == 4096)
        }
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 2046, blocks: 2))).data == data)
        let grown = await target.execute(TestFixture.command(CDB.read10(lba: 4000, blocks: 2)))
        #expect(grown.status == .good && grown.data == [UInt8](repeating: 0, count: 1024))
    }

    @Test("shrinking puts the old tail out of range, and a later grow reads zeros there", arguments: Backend.allCases)
    func shrinkThenGrow(backend: Backend) async throws {
        let target = await SBC3MediaAccessTests.readyTarget(try await SBC3MediaAccessTests.device(backend, blockCount: 2048))
        _ = await target.execute(TestFixture.command(CDB.write10(lba: 1000, blocks: 8), dataOut: pattern(blocks: 8)))
        _ = try await target.resize(lun: 0, toBlockCount: 1003)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).hasSense(.capacityDataHasChanged))
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 1002, blocks: 2))).hasSense(.lbaOutOfRange))
        _ = try await target.resize(lun: 0, toBlockCount: 2048)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).hasSense(.capacityDataHasChanged))
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 1000, blocks: 8))).data
        #expect(Array(read[0..<1536]) == Array(pattern(blocks: 8)[0..<1536]))
        #expect(Array(read[1536...]) == [UInt8](repeating: 0, count: 5 * 512))
    }

    @Test("a read-only unit, an unknown LUN and zero blocks are refused with a reason")
    func refusals() async throws {
        let target = await SBC3MediaAccessTests.readyTarget(RAMBlockDevice(blockCount: 64), readOnly: true)
        await #expect(throws: SCSIEngineError.self) { try await target.resize(lun: 0, toBlockCount: 128) }
        await #expect(throws: SCSIEngineError.self) { try await target.resize(lun: 7, toBlockCount: 128) }
        let writable = await SBC3MediaAccessTests.readyTarget(RAMBlockDevice(blockCount: 64))
        await #expect(throws: SCSIEngineError.self) { try await writable.resize(lun: 0, toBlockCount: 0) }
        #expect(await Self.capacity(writable) == 64)
        #expect(await writable.execute(TestFixture.command(CDB.testUnitReady)).status == .good)
    }
}

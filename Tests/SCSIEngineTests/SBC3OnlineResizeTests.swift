import BlockStorage
import LUNBackends
import NIOConcurrencyHelpers
import NIOCore
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

    /// Shared storage another host resizes: the disk changes size by itself and tells
    /// whoever asked to be told.
    final class SharedDisk: BlockDevice {
        let disk = RAMBlockDevice(blockCount: 64)
        let handler = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)
        var geometry: BlockGeometry { disk.geometry }
        func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
            try await disk.read(at: lba, blockCount: blockCount, allocator: allocator)
        }
        func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
            try await disk.write(data, at: lba, forceUnitAccess: forceUnitAccess)
        }
        func flush() async throws {}
        func unmap(at lba: UInt64, blockCount: Int) async throws {}
        func onExternalResize(_ handler: @escaping @Sendable () -> Void) { self.handler.withLockedValue { $0 = handler } }
        func resizedElsewhere(to blockCount: UInt64) async throws {
            try await disk.resize(toBlockCount: blockCount)
            handler.withLockedValue { $0 }?()
        }
    }

    @Test("a resize made elsewhere raises CAPACITY DATA HAS CHANGED on every nexus, also for a unit added live")
    func externalResize() async throws {
        let disk = SharedDisk(), added = SharedDisk()
        let target = await SBC3MediaAccessTests.readyTarget(disk)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        try await disk.resizedElsewhere(to: 100)
        for nexus in [TestFixture.nexusA, TestFixture.nexusB] {
            #expect(await target.execute(TestFixture.command(CDB.testUnitReady, nexus: nexus)).hasSense(.capacityDataHasChanged))
            #expect(await Self.capacity(target, nexus: nexus) == 100)
        }

        try await target.addLogicalUnit(TestFixture.descriptor(lun: 1, device: added))
        await TestFixture.ready(target, lun: 1)
        try await added.resizedElsewhere(to: 32)
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady, lun: 1)).hasSense(.capacityDataHasChanged))
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status != .good, "LUN 0 owes REPORTED LUNS DATA HAS CHANGED")
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status == .good, "and no capacity change of its own")
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

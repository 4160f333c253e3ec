import BlockStorage
import LUNBackends
import NIOConcurrencyHelpers
import NIOCore
import SCSIEngine
import SCSIProtocol
import Testing

/// COMPARE AND WRITE and WRITE SAME handed to a backend that does them in one
/// operation of its own (an rbd image: at the OSD), instead of the engine's read,
/// compare and write or its repeated block.
@Suite("Backend offload of COMPARE AND WRITE and WRITE SAME")
struct BackendOffloadTests {
    /// A RAM disk that also does both itself, and counts what it was asked.
    final class OffloadingDisk: BlockDevice {
        let disk = RAMBlockDevice(blockCount: 64)
        let calls = NIOLockedValueBox<[String]>([])
        var geometry: BlockGeometry { disk.geometry }
        func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
            try await disk.read(at: lba, blockCount: blockCount, allocator: allocator)
        }
        func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
            calls.withLockedValue { $0.append("write \(lba)") }
            try await disk.write(data, at: lba, forceUnitAccess: forceUnitAccess)
        }
        func flush() async throws {}
        func unmap(at lba: UInt64, blockCount: Int) async throws {}
        func compareAndWrite(_ expected: ByteBuffer, _ replacement: ByteBuffer, at lba: UInt64) async throws -> CompareAndWriteResult? {
            calls.withLockedValue { $0.append("compareAndWrite \(lba)") }
            let actual = try await disk.read(at: lba, blockCount: expected.readableBytes / 512, allocator: ByteBufferAllocator())
            if let offset = zip(expected.readableBytesView, actual.readableBytesView).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                return .miscompare(offset: offset)
            }
            try await disk.write(replacement, at: lba, forceUnitAccess: false)
            return .written
        }
        func writeSame(_ pattern: ByteBuffer, at lba: UInt64, blockCount: UInt64) async throws -> Bool {
            calls.withLockedValue { $0.append("writeSame \(lba) \(blockCount)") }
            var repeated = ByteBuffer()
            for _ in 0..<blockCount { repeated.writeImmutableBuffer(pattern) }
            try await disk.write(repeated, at: lba, forceUnitAccess: false)
            return true
        }
    }

    static func readyTarget(_ disk: OffloadingDisk) async -> SCSITargetDevice {
        let target = TestFixture.target([TestFixture.descriptor(device: disk)])
        await TestFixture.ready(target)
        return target
    }

    @Test("COMPARE AND WRITE goes to the backend's own operation; its miscompare offset is the sense INFORMATION")
    func compareAndWrite() async throws {
        let disk = OffloadingDisk()
        let target = await Self.readyTarget(disk)
        let new = pattern(blocks: 1, seed: 4)
        let written = await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 5, blocks: 1), dataOut: [UInt8](repeating: 0, count: 512) + new))
        #expect(written.status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 5, blocks: 1))).data == new)

        var expected = new
        expected[100] ^= 0xFF
        let refused = await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 5, blocks: 1), dataOut: expected + pattern(blocks: 1, seed: 5)))
        #expect(refused.hasSense(.miscompareDuringVerifyOperation))
        #expect(Array(refused.sense?[3..<7] ?? []) == [0, 0, 0, 100], "INFORMATION")
        #expect(disk.calls.withLockedValue { $0 } == ["compareAndWrite 5", "compareAndWrite 5"], "never the engine's own read and write")
    }

    @Test("WRITE SAME goes to the backend's own operation, the block sent once")
    func writeSame() async throws {
        let disk = OffloadingDisk()
        let target = await Self.readyTarget(disk)
        let block = pattern(blocks: 1, seed: 9)
        let cdb: [UInt8] = [0x93, 0] + UInt64(8).bigEndianBytes + UInt32(5).bigEndianBytes + [0, 0]
        #expect(await target.execute(TestFixture.command(cdb, dataOut: block)).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 8, blocks: 5))).data == Array([[UInt8]](repeating: block, count: 5).joined()))
        #expect(disk.calls.withLockedValue { $0 } == ["writeSame 8 5"])
    }
}

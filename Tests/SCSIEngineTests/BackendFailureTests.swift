import BlockStorage
import LUNBackends
import NIOConcurrencyHelpers
import NIOCore
import SCSIEngine
import SCSIProtocol
import Testing

/// What a backend's failure becomes: the operation's own MEDIUM ERROR, NOT READY for
/// storage out of reach (so a multipath host tries another path), and for storage that
/// fenced the backend off, NOT READY from then on for every command that needs the medium.
@Suite("Backend failures as sense data")
struct BackendFailureTests {
    /// A RAM disk whose next operations fail with a chosen code.
    final class FailingDisk: BlockDevice {
        let disk = RAMBlockDevice(blockCount: 64)
        let failure = NIOLockedValueBox<BlockStorageError.Code?>(nil)
        var geometry: BlockGeometry { disk.geometry }
        func failIfAsked() throws {
            if let code = failure.withLockedValue({ $0 }) { throw BlockStorageError(code, "as the test asked") }
        }
        func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
            try failIfAsked()
            return try await disk.read(at: lba, blockCount: blockCount, allocator: allocator)
        }
        func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
            try failIfAsked()
            try await disk.write(data, at: lba, forceUnitAccess: forceUnitAccess)
        }
        func flush() async throws { try failIfAsked() }
        func unmap(at lba: UInt64, blockCount: Int) async throws { try failIfAsked() }
        var supportsUnmap: Bool { true }
    }

    static func readyTarget(_ disk: FailingDisk) async -> SCSITargetDevice {
        let target = TestFixture.target([TestFixture.descriptor(device: disk)])
        await TestFixture.ready(target)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        return target
    }

    @Test("a failed read or write is a MEDIUM ERROR with the LBA; the next command is served")
    func operationFailure() async {
        let disk = FailingDisk()
        let target = await Self.readyTarget(disk)
        disk.failure.withLockedValue { $0 = .readFailed }
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 7, blocks: 1)))
        #expect(read.hasSense(.unrecoveredReadError))
        #expect(Array(read.sense?[3..<7] ?? []) == [0, 0, 0, 7], "INFORMATION")
        disk.failure.withLockedValue { $0 = .writeFailed }
        #expect(await target.execute(TestFixture.command(CDB.write10(lba: 7, blocks: 1), dataOut: pattern(blocks: 1))).hasSense(.writeError))
        disk.failure.withLockedValue { $0 = nil }
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 7, blocks: 1))).status == .good)
    }

    @Test("storage out of reach is NOT READY for that command only, on reads, writes, flushes and unmaps alike")
    func unavailable() async {
        let disk = FailingDisk()
        let target = await Self.readyTarget(disk)
        disk.failure.withLockedValue { $0 = .unavailable }
        let unmap: [UInt8] = [0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0]
        let unmapList: [UInt8] = [0, 22, 0, 16, 0, 0, 0, 0] + UInt64(3).bigEndianBytes + UInt32(2).bigEndianBytes + [0, 0, 0, 0]
        for result in [
            await target.execute(TestFixture.command(CDB.read10(lba: 3, blocks: 1))),
            await target.execute(TestFixture.command(CDB.write10(lba: 3, blocks: 1), dataOut: pattern(blocks: 1))),
            await target.execute(TestFixture.command(CDB.synchronizeCache10())),
            await target.execute(TestFixture.command(unmap, dataOut: unmapList)),
        ] {
            #expect(result.hasSense(.logicalUnitNotReadyCauseNotReportable), "\(result)")
        }
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status == .good, "the unit itself is ready")
        disk.failure.withLockedValue { $0 = nil }
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 3, blocks: 1))).status == .good, "and serves again when the storage answers")
    }

    @Test("fenced off its storage, the unit refuses media access and TEST UNIT READY on every nexus, and still answers INQUIRY and READ CAPACITY")
    func fenced() async {
        let disk = FailingDisk()
        let target = await Self.readyTarget(disk)
        disk.failure.withLockedValue { $0 = .fenced }
        #expect(await target.execute(TestFixture.command(CDB.write10(lba: 1, blocks: 1), dataOut: pattern(blocks: 1))).hasSense(.logicalUnitNotReadyManualInterventionRequired))
        // The backend would serve again: the unit does not try it.
        disk.failure.withLockedValue { $0 = nil }
        for nexus in [TestFixture.nexusA, TestFixture.nexusB] {
            #expect(await target.execute(TestFixture.command(CDB.read10(lba: 1, blocks: 1), nexus: nexus)).hasSense(.logicalUnitNotReadyManualInterventionRequired))
            #expect(await target.execute(TestFixture.command(CDB.testUnitReady, nexus: nexus)).hasSense(.logicalUnitNotReadyManualInterventionRequired))
            #expect(await target.execute(TestFixture.command(CDB.inquiry(), nexus: nexus)).status == .good)
            #expect(await target.execute(TestFixture.command(CDB.readCapacity16(), nexus: nexus)).status == .good)
        }
    }
}

import BlockStorage
import Foundation
import ISCSITestSupport
import LUNBackends
import NIOPosix
import SCSIEngine
import SCSIProtocol
import Testing

/// READ/WRITE/VERIFY/SYNCHRONIZE CACHE/READ CAPACITY (SBC-3 §5) on each backend.
@Suite("SBC-3 §5 media access")
struct SBC3MediaAccessTests {
    /// The backends a round trip runs on.
    enum Backend: String, CaseIterable, Sendable {
        case ram
        case file
    }

    static func device(_ backend: Backend, blockCount: UInt64 = 2048) async throws -> any BlockDevice {
        switch backend {
        case .ram:
            return RAMBlockDevice(blockCount: blockCount)
        case .file:
            let path = NSTemporaryDirectory() + "swiftport-scsi-\(UUID().uuidString).img"
            defer { unlink(path) }  // the open descriptor keeps the file alive
            return try await FileBlockDevice.open(path: path, blockCount: blockCount, threadPool: .singleton)
        }
    }

    static func readyTarget(_ device: any BlockDevice, readOnly: Bool = false) async -> SCSITargetDevice {
        let target = TestFixture.target([TestFixture.descriptor(device: device, readOnly: readOnly)])
        await TestFixture.ready(target)
        return target
    }

    @Test("§5.8/§5.33 WRITE(10) then READ(10) returns the data", arguments: Backend.allCases)
    func roundTrip10(backend: Backend) async throws {
        let target = await Self.readyTarget(try await Self.device(backend))
        let data = pattern(blocks: 4)
        let write = await target.execute(TestFixture.command(CDB.write10(lba: 10, blocks: 4), dataOut: data))
        #expect(write.status == .good)
        #expect(write.dataOutLengthUsed == 2048)
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 10, blocks: 4)))
        #expect(read.status == .good)
        #expect(read.data == data)
    }

    @Test("§5.10/§5.35 WRITE(16) with FUA then READ(16)", arguments: Backend.allCases)
    func roundTrip16FUA(backend: Backend) async throws {
        let target = await Self.readyTarget(try await Self.device(backend))
        let data = pattern(blocks: 3, seed: 7)
        #expect(await target.execute(TestFixture.command(CDB.write16(lba: 2045, blocks: 3, fua: true), dataOut: data)).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read16(lba: 2045, blocks: 3))).data == data)
        #expect(await target.execute(TestFixture.command(CDB.synchronizeCache10())).status == .good)
    }

    @Test("§5.7 READ(6) TRANSFER LENGTH 0 means 256 blocks")
    func read6ZeroMeans256() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 2048))
        let result = await target.execute(TestFixture.command(CDB.read6(lba: 0, blocks: 0)))
        #expect(result.data.count == 256 * 512)
    }

    @Test("§5.8 TRANSFER LENGTH 0 transfers nothing and succeeds")
    func zeroLength() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 2048))
        let result = await target.execute(TestFixture.command(CDB.read10(lba: 2048, blocks: 0)))
        #expect(result.status == .good)
        #expect(result.data.isEmpty)
    }

    /// (LBA, blocks) pairs that leave a 2048-block medium.
    static let outOfRange: [(UInt64, UInt32)] = [(2048, 1), (2047, 2), (UInt64.max, 1), (2049, 0)]

    @Test("§4.5 LBA OUT OF RANGE", arguments: outOfRange)
    func lbaOutOfRange(lba: UInt64, blocks: UInt32) async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 2048))
        #expect(await target.execute(TestFixture.command(CDB.read16(lba: lba, blocks: blocks))).hasSense(.lbaOutOfRange))
        let write = await target.execute(
            TestFixture.command(CDB.write16(lba: lba, blocks: blocks), dataOut: pattern(blocks: Int(blocks))))
        #expect(write.hasSense(.lbaOutOfRange))
    }

    @Test("§4.13 WRITE to a read-only logical unit: DATA PROTECT / WRITE PROTECTED")
    func writeProtected() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64), readOnly: true)
        let write = await target.execute(TestFixture.command(CDB.write10(lba: 0, blocks: 1), dataOut: pattern(blocks: 1)))
        #expect(write.hasSense(.writeProtected))
        #expect(write.dataOutLengthUsed == 512)
    }

    @Test("SPC-4 §4.2.5.1 unsupported operation code: INVALID COMMAND OPERATION CODE")
    func invalidOpcode() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        #expect(await target.execute(TestFixture.command([0xC5, 0, 0, 0, 0, 0])).hasSense(.invalidCommandOperationCode))
        #expect(await target.execute(TestFixture.command([0x9E, 0x11] + [UInt8](repeating: 0, count: 14)))
            .hasSense(.invalidFieldInCDB))
    }

    @Test("SAM-5 §5.9.2 NACA = 1 in the CONTROL byte: INVALID FIELD IN CDB")
    func nacaRejected() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        let result = await target.execute(TestFixture.command([0x00, 0, 0, 0, 0, 0x04]))
        #expect(result.hasSense(.invalidFieldInCDB))
        #expect(Array(result.sense?[15..<18] ?? []) == [0xCA, 0x00, 0x05])  // SKSV C/D BPV bit 2, byte 5
    }

    @Test("RFC 7143 §11.4.5.1 Data-Out shorter than the CDB: only the blocks sent are written")
    func shortDataOut() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        let write = await target.execute(TestFixture.command(CDB.write10(lba: 0, blocks: 2), dataOut: pattern(blocks: 1)))
        #expect(write.status == .good)
        #expect(write.dataOutLengthUsed == 1024)
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 2)))
        #expect(Array(read.data.prefix(512)) == pattern(blocks: 1))
        #expect(Array(read.data.suffix(512)) == [UInt8](repeating: 0, count: 512))
    }

    @Test("backend read failure: MEDIUM ERROR / UNRECOVERED READ ERROR with the LBA")
    func readFault() async throws {
        let faulty = FaultInjectingBlockDevice(
            wrapping: RAMBlockDevice(blockCount: 64), faults: .init(failingReadLBAs: [5]))
        let target = await Self.readyTarget(faulty)
        let result = await target.execute(TestFixture.command(CDB.read10(lba: 4, blocks: 2)))
        #expect(result.hasSense(.unrecoveredReadError))
        #expect(result.sense?[0] == 0xF0)  // VALID + current fixed format
        #expect(Array(result.sense?[3..<7] ?? []) == [0, 0, 0, 4])
    }

    @Test("backend write and flush failures: MEDIUM ERROR / WRITE ERROR")
    func writeFault() async throws {
        let faulty = FaultInjectingBlockDevice(
            wrapping: RAMBlockDevice(blockCount: 64), faults: .init(failingWriteLBAs: [0], failFlush: true))
        let target = await Self.readyTarget(faulty)
        let write = await target.execute(TestFixture.command(CDB.write10(lba: 0, blocks: 1), dataOut: pattern(blocks: 1)))
        #expect(write.hasSense(.writeError))
        #expect(await target.execute(TestFixture.command(CDB.synchronizeCache10())).hasSense(.writeError))
        faulty.setFaults(.init(failAfterOperations: 0))
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 1, blocks: 1))).hasSense(.unrecoveredReadError))
    }

    @Test("§5.15 READ CAPACITY(10) and §5.16 READ CAPACITY(16)")
    func readCapacity() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 2048))
        #expect(await target.execute(TestFixture.command(CDB.readCapacity10)).data == [0, 0, 0x07, 0xFF, 0, 0, 0x02, 0])
        let sixteen = await target.execute(TestFixture.command(CDB.readCapacity16())).data
        #expect(sixteen.count == 32)
        #expect(Array(sixteen[0..<12]) == [0, 0, 0, 0, 0, 0, 0x07, 0xFF, 0, 0, 0x02, 0])
        #expect(sixteen[14] == 0xC0)  // LBPME, LBPRZ
    }

    @Test("§5.15 READ CAPACITY(10) saturates at FFFFFFFFh above 2^32 blocks")
    func readCapacity10Saturates() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 1 << 33))
        #expect(Array(await target.execute(TestFixture.command(CDB.readCapacity10)).data.prefix(4)) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Array(await target.execute(TestFixture.command(CDB.readCapacity16())).data.prefix(8)) == [0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test("§5.28 UNMAP deallocates; reads return zeros (LBPRZ)", arguments: Backend.allCases)
    func unmap(backend: Backend) async throws {
        let target = await Self.readyTarget(try await Self.device(backend))
        _ = await target.execute(TestFixture.command(CDB.write10(lba: 100, blocks: 4), dataOut: pattern(blocks: 4)))
        let list: [UInt8] = [0, 22, 0, 16, 0, 0, 0, 0] + UInt64(101).bigEndianBytes + UInt32(2).bigEndianBytes + [0, 0, 0, 0]
        let unmap = await target.execute(TestFixture.command([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0], dataOut: list))
        #expect(unmap.status == .good)
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 100, blocks: 4))).data
        #expect(Array(read[512..<1536]) == [UInt8](repeating: 0, count: 1024))
        #expect(Array(read[0..<512]) == Array(pattern(blocks: 4)[0..<512]))
    }

    @Test("§5.42 WRITE SAME(16) replicates one block")
    func writeSame() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        let block = pattern(blocks: 1, seed: 9)
        let cdb: [UInt8] = [0x93, 0] + UInt64(8).bigEndianBytes + UInt32(5).bigEndianBytes + [0, 0]
        #expect(await target.execute(TestFixture.command(cdb, dataOut: block)).status == .good)
        let expected: [UInt8] = Array([[UInt8]](repeating: block, count: 5).joined())
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 8, blocks: 5)))
        #expect(read.data == expected)
    }

    @Test("§5.42 WRITE SAME with a Data-Out other than one block is refused, not written", arguments: [256, 1024])
    func writeSameDataOutSize(bytes: Int) async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        let cdb: [UInt8] = [0x41, 0, 0, 0, 0, 8, 0, 0, 4, 0]
        let result = await target.execute(TestFixture.command(cdb, dataOut: [UInt8](repeating: 0xA6, count: bytes)))
        #expect(result.hasSense(.invalidFieldInCDB))
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 8, blocks: 4))).data == [UInt8](repeating: 0, count: 2048))
    }

    @Test("§5.42 WRITE SAME(16) with 0 blocks writes to the last LBA, within MAXIMUM WRITE SAME LENGTH")
    func writeSameToTheEnd() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        let block = pattern(blocks: 1, seed: 3)
        func writeSame(lba: UInt64) -> [UInt8] { [0x93, 0] + lba.bigEndianBytes + UInt32(0).bigEndianBytes + [0, 0] }
        #expect(await target.execute(TestFixture.command(writeSame(lba: 60), dataOut: block)).status == .good)
        let read = await target.execute(TestFixture.command(CDB.read10(lba: 59, blocks: 5)))
        #expect(Array(read.data[0..<512]) == [UInt8](repeating: 0, count: 512))
        #expect(Array(read.data[512...]) == Array([[UInt8]](repeating: block, count: 4).joined()))
        #expect(await target.execute(TestFixture.command(writeSame(lba: 64), dataOut: block)).hasSense(.lbaOutOfRange))

        let large = await Self.readyTarget(RAMBlockDevice(blockCount: 0x10000 + 8))
        let tooMany = await large.execute(TestFixture.command(writeSame(lba: 0), dataOut: block))
        #expect(tooMany.hasSense(.invalidFieldInCDB))
        #expect(await large.execute(TestFixture.command(writeSame(lba: 9), dataOut: block)).status == .good)
    }

    @Test("§4.7 a thick unit on a backend that could unmap offers no provisioning: LBPME 0, UNMAP refused")
    func thickUnit() async throws {
        let descriptor = { () -> LogicalUnitDescriptor in
            var descriptor = TestFixture.descriptor(device: RAMBlockDevice(blockCount: 64))
            descriptor.thinProvisioning = false
            return descriptor
        }()
        let target = TestFixture.target([descriptor])
        await TestFixture.ready(target)
        #expect(await target.execute(TestFixture.command(CDB.readCapacity16())).data[14] & 0x80 == 0)
        let list: [UInt8] = [0, 22, 0, 16, 0, 0, 0, 0] + UInt64(1).bigEndianBytes + UInt32(2).bigEndianBytes + [0, 0, 0, 0]
        let unmap = await target.execute(TestFixture.command([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0], dataOut: list))
        #expect(unmap.hasSense(.invalidCommandOperationCode))
    }

    @Test("§5.16.2 READ CAPACITY(16) reports 4 KiB physical blocks of a 512-byte RAM disk (LBPPBE 3)")
    func physicalBlockExponent() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        let data = await target.execute(TestFixture.command(CDB.readCapacity16())).data
        #expect(data[13] & 0x0F == 3)
        let native = await Self.readyTarget(RAMBlockDevice(blockSize: 4096, blockCount: 64))
        #expect(await native.execute(TestFixture.command(CDB.readCapacity16())).data[13] & 0x0F == 0)
    }

    @Test("§5.29 VERIFY(10) BYTCHK=1 reports MISCOMPARE at the first differing byte")
    func verifyMiscompare() async throws {
        let target = await Self.readyTarget(RAMBlockDevice(blockCount: 64))
        let data = pattern(blocks: 2)
        _ = await target.execute(TestFixture.command(CDB.write10(lba: 0, blocks: 2), dataOut: data))
        let verify: [UInt8] = [0x2F, 0x02, 0, 0, 0, 0, 0, 0, 2, 0]
        #expect(await target.execute(TestFixture.command(verify, dataOut: data)).status == .good)
        var changed = data
        changed[700] ^= 0xFF
        let miscompare = await target.execute(TestFixture.command(verify, dataOut: changed))
        #expect(miscompare.hasSense(.miscompareDuringVerifyOperation))
        #expect(Array(miscompare.sense?[3..<7] ?? []) == UInt32(700).bigEndianBytes)
    }
}

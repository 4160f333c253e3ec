import SCSIEngine
import SCSIProtocol
import Testing

/// COMPARE AND WRITE (SBC-3 §5.2), ORWRITE (§5.10), WRITE AND VERIFY (§5.38-§5.40),
/// PRE-FETCH (§5.11), GET LBA STATUS (§5.5), READ DEFECT DATA (§5.19), PREVENT ALLOW
/// MEDIUM REMOVAL (§5.13), VERIFY BYTCHK 11b and D_SENSE (SPC-4 §7.5.8).
@Suite("SBC-3 §5 atomic and block commands")
struct SBC3AtomicAndBlockCommandTests {
    static func readyTarget() async -> SCSITargetDevice {
        let target = TestFixture.target()
        await TestFixture.ready(target)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        return target
    }

    static func write(_ target: SCSITargetDevice, lba: UInt32, _ data: [UInt8]) async {
        _ = await target.execute(TestFixture.command(CDB.write10(lba: lba, blocks: UInt16(data.count / 512)), dataOut: data))
    }

    @Test("§5.2 COMPARE AND WRITE writes when the data matches")
    func compareAndWriteMatches() async {
        let target = await Self.readyTarget()
        let old = pattern(blocks: 1, seed: 1), new = pattern(blocks: 1, seed: 2)
        await Self.write(target, lba: 5, old)
        let result = await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 5, blocks: 1), dataOut: old + new))
        #expect(result.status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 5, blocks: 1))).data == new)
    }

    @Test("§5.2 COMPARE AND WRITE miscompare: MISCOMPARE with the offset, nothing written")
    func compareAndWriteMiscompare() async {
        let target = await Self.readyTarget()
        var old = pattern(blocks: 1, seed: 1)
        await Self.write(target, lba: 5, old)
        old[100] ^= 0xFF
        let result = await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 5, blocks: 1), dataOut: old + pattern(blocks: 1, seed: 9)))
        #expect(result.hasSense(.miscompareDuringVerifyOperation))
        #expect(Array(result.sense?[3..<7] ?? []) == [0, 0, 0, 100])
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 5, blocks: 1))).data == pattern(blocks: 1, seed: 1))
    }

    @Test("§5.2 COMPARE AND WRITE: more blocks than MAXIMUM COMPARE AND WRITE LENGTH, wrong Data-Out size")
    func compareAndWriteLimits() async {
        let target = await Self.readyTarget()
        let two = await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 0, blocks: 2), dataOut: pattern(blocks: 4)))
        #expect(two.hasSense(.invalidFieldInCDB))
        let short = await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 0, blocks: 1), dataOut: pattern(blocks: 4)))
        #expect(short.hasSense(.invalidFieldInCDB))
    }

    @Test("§4.24 COMPARE AND WRITE is atomic against concurrent writes to the same block")
    func compareAndWriteAtomic() async {
        let target = await Self.readyTarget()
        let zero = [UInt8](repeating: 0, count: 512)
        await Self.write(target, lba: 7, zero)
        // Many initiators race to claim the block; exactly one may see the zero block.
        let winners = await withTaskGroup(of: Bool.self) { group in
            for seed in 1...16 {
                group.addTask {
                    let claim = zero + pattern(blocks: 1, seed: UInt8(seed))
                    return await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 7, blocks: 1), dataOut: claim)).status == .good
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
    }

    @Test("§5.10 ORWRITE ORs the Data-Out into the medium")
    func orWrite() async {
        let target = await Self.readyTarget()
        await Self.write(target, lba: 3, [UInt8](repeating: 0x0F, count: 512))
        let result = await target.execute(TestFixture.command(CDB.orWrite16(lba: 3, blocks: 1), dataOut: [UInt8](repeating: 0xF0, count: 512)))
        #expect(result.status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 3, blocks: 1))).data == [UInt8](repeating: 0xFF, count: 512))
    }

    @Test("§5.38 WRITE AND VERIFY(10) writes the data")
    func writeAndVerify() async {
        let target = await Self.readyTarget()
        let data = pattern(blocks: 2, seed: 4)
        let cdb: [UInt8] = [0x2E, 0x02, 0, 0, 0, 9, 0, 0, 2, 0]
        #expect(await target.execute(TestFixture.command(cdb, dataOut: data)).status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 9, blocks: 2))).data == data)
    }

    @Test("§5.11 PRE-FETCH checks the range")
    func preFetch() async {
        let target = await Self.readyTarget()
        #expect(await target.execute(TestFixture.command([0x34, 0, 0, 0, 0x07, 0xFF, 0, 0, 1, 0])).status == .good)
        #expect(await target.execute(TestFixture.command([0x34, 0, 0, 0, 0x08, 0x00, 0, 0, 1, 0])).hasSense(.lbaOutOfRange))
    }

    @Test("§5.5 GET LBA STATUS reports written blocks mapped and unmapped ones deallocated")
    func getLBAStatus() async {
        let target = await Self.readyTarget()
        await Self.write(target, lba: 0, pattern(blocks: 4))
        let data = await target.execute(TestFixture.command(CDB.getLBAStatus(lba: 0))).data
        #expect(Array(data[8..<24]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0])
        #expect(Array(data[24..<32]) == [0, 0, 0, 0, 0, 0, 0, 4])
        #expect(data[36] == 0x01)
        #expect(await target.execute(TestFixture.command(CDB.getLBAStatus(lba: 2048))).hasSense(.lbaOutOfRange))
    }

    @Test("§5.19 READ DEFECT DATA(10): an empty list; §5.13 PREVENT ALLOW on a fixed medium")
    func defectDataAndPreventAllow() async {
        let target = await Self.readyTarget()
        #expect(await target.execute(TestFixture.command([0x37, 0, 0x18, 0, 0, 0, 0, 0, 32, 0])).data == [0, 0x18, 0, 0])
        #expect(await target.execute(TestFixture.command([0x1E, 0, 0, 0, 0, 0])).status == .good)
        #expect(await target.execute(TestFixture.command([0x1E, 0, 0, 0, 1, 0])).hasSense(.invalidFieldInCDB))
    }

    @Test("SBC-4 §5.31 VERIFY BYTCHK 11b compares one block with every block of the range")
    func verifyByteCheck3() async {
        let target = await Self.readyTarget()
        let block = pattern(blocks: 1, seed: 3)
        await Self.write(target, lba: 20, block + block)
        let verify: [UInt8] = [0x2F, 0x06, 0, 0, 0, 20, 0, 0, 2, 0]
        #expect(await target.execute(TestFixture.command(verify, dataOut: block)).status == .good)
        let other = await target.execute(TestFixture.command(verify, dataOut: pattern(blocks: 1, seed: 8)))
        #expect(other.hasSense(.miscompareDuringVerifyOperation))
    }

    @Test("SPC-4 §7.5.8 D_SENSE = 1 switches CHECK CONDITION to descriptor format")
    func descriptorSense() async {
        let target = await Self.readyTarget()
        let control: [UInt8] = [0x0A, 0x0A, 0x06, 0x10, 0, 0x80, 0, 0, 0xFF, 0xFF, 0, 0]  // D_SENSE set, TAS as it is
        let list: [UInt8] = [0, 0, 0, 0] + control
        #expect(await target.execute(TestFixture.command([0x15, 0x10, 0, 0, UInt8(list.count), 0], dataOut: list)).status == .good)
        let failed = await target.execute(TestFixture.command(CDB.read10(lba: 4096, blocks: 1)))
        #expect(failed.sense?.first == 0x72)
        #expect(Array(failed.sense?[1..<4] ?? []) == [0x05, 0x21, 0x00])
    }
}

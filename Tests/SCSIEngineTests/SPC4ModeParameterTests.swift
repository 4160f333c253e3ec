import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// MODE SENSE (SPC-4 §6.11, §6.12) and MODE SELECT (SPC-4 §6.9, §6.10).
@Suite("SPC-4 §6.11 MODE SENSE / §6.9 MODE SELECT")
struct SPC4ModeParameterTests {
    static func readyTarget(readOnly: Bool = false) async -> SCSITargetDevice {
        let target = TestFixture.target([
            TestFixture.descriptor(device: RAMBlockDevice(blockCount: 2048), readOnly: readOnly)
        ])
        await TestFixture.ready(target)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        return target
    }

    @Test("§6.11 MODE SENSE(6) caching page with block descriptor")
    func modeSense6Caching() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.modeSense6(page: 0x08))).data
        #expect(data.count == 4 + 8 + 20)
        #expect(data[0] == UInt8(data.count - 1))
        #expect(data[2] == 0x10)  // DPOFUA, not write protected
        #expect(data[3] == 8)
        #expect(Array(data[4..<12]) == [0, 0, 0x08, 0x00, 0, 0, 0x02, 0x00])
        #expect(Array(data[12..<15]) == [0x08, 0x12, 0x04])  // WCE
    }

    @Test("§6.11 DBD suppresses the block descriptor; WP set for a read-only unit")
    func modeSenseDBDAndWP() async {
        let target = await Self.readyTarget(readOnly: true)
        let data = await target.execute(TestFixture.command(CDB.modeSense6(page: 0x0A, dbd: true))).data
        #expect(data == [15, 0, 0x90, 0, 0x0A, 0x0A, 0x02, 0x10, 0, 0x80, 0, 0, 0xFF, 0xFF, 0, 0])  // TAS = 1
    }

    @Test("§6.12 MODE SENSE(10) all pages in ascending order")
    func modeSense10AllPages() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.modeSense10(page: 0x3F))).data
        let expectedLength = 60  // header 8, block descriptor 8, caching 20, control 12, IE 12
        #expect(data.count == expectedLength)
        let modeDataLength = Int(data[0]) << 8 | Int(data[1])
        #expect(modeDataLength == data.count - 2)
        #expect(Array(data[6..<8]) == [0, 8])
        #expect([data[16], data[36], data[48]] == [0x08, 0x0A, 0x1C])
    }

    @Test("§6.11 changeable values expose only WCE")
    func changeable() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.modeSense6(page: 0x08, pc: 1, dbd: true))).data
        #expect(Array(data[4..<7]) == [0x08, 0x12, 0x04])
        #expect(data[7...].allSatisfy { $0 == 0 })
    }

    @Test("§6.11 saved values: SAVING PARAMETERS NOT SUPPORTED; unknown page: INVALID FIELD IN CDB")
    func unsupported() async {
        let target = await Self.readyTarget()
        #expect(await target.execute(TestFixture.command(CDB.modeSense6(page: 0x08, pc: 3))).hasSense(.savingParametersNotSupported))
        #expect(await target.execute(TestFixture.command(CDB.modeSense6(page: 0x19))).hasSense(.invalidFieldInCDB))
    }

    @Test("§6.9 MODE SELECT(6) clears WCE and raises MODE PARAMETERS CHANGED elsewhere")
    func modeSelectWCE() async {
        let target = await Self.readyTarget()
        var caching = [UInt8](repeating: 0, count: 20)
        caching[0] = 0x08
        caching[1] = 0x12
        let list: [UInt8] = [0, 0, 0, 0] + caching
        let result = await target.execute(TestFixture.command(CDB.modeSelect6(length: UInt8(list.count)), dataOut: list))
        #expect(result.status == .good)
        #expect(result.dataOutLengthUsed == list.count)
        let data = await target.execute(TestFixture.command(CDB.modeSense6(page: 0x08, dbd: true))).data
        #expect(data[6] & 0x04 == 0)
        let other = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(other.hasSense(.modeParametersChanged))
    }

    @Test("§6.9 MODE SELECT changing an unchangeable bit: INVALID FIELD IN PARAMETER LIST")
    func modeSelectRejects() async {
        let target = await Self.readyTarget()
        var caching = [UInt8](repeating: 0, count: 20)
        caching[0] = 0x08
        caching[1] = 0x12
        caching[2] = 0x05  // WCE + RCD: RCD is not changeable
        let list: [UInt8] = [0, 0, 0, 0] + caching
        let result = await target.execute(TestFixture.command(CDB.modeSelect6(length: UInt8(list.count)), dataOut: list))
        #expect(result.hasSense(.invalidFieldInParameterList))
        #expect(Array(result.sense?[15..<18] ?? []) == [0x80, 0x00, 0x06])  // parameter list byte 6
        let truncated = await target.execute(TestFixture.command(CDB.modeSelect6(length: 10), dataOut: Array(list.prefix(10))))
        #expect(truncated.hasSense(.parameterListLengthError))
    }
}

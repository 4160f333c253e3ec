import SCSIEngine
import SCSIProtocol
import Testing

/// REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35) and REPORT SUPPORTED TASK
/// MANAGEMENT FUNCTIONS (SPC-4 §6.36).
@Suite("SPC-4 §6.35 REPORT SUPPORTED OPERATION CODES")
struct SPC4ReportSupportedOperationCodesTests {
    static func readyTarget() async -> SCSITargetDevice {
        let target = TestFixture.target()
        await TestFixture.ready(target)
        return target
    }

    @Test("§6.35.2 all commands: 8-byte descriptors, SERVACTV only with a service action")
    func allCommands() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.reportSupportedOperationCodes())).data
        let length = Int(data[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        #expect(length == data.count - 4)
        #expect(length % 8 == 0)
        let descriptors = stride(from: 4, to: data.count, by: 8).map { Array(data[$0..<$0 + 8]) }
        #expect(descriptors.contains { $0[0] == 0x28 && $0[5] == 0 && $0[7] == 10 })  // READ(10)
        #expect(descriptors.contains { $0[0] == 0x5F && $0[3] == 0x07 && $0[5] == 0x01 })  // PR OUT REGISTER AND MOVE
        #expect(descriptors.allSatisfy { $0[5] & 0x01 == 1 || $0[3] == 0 })
    }

    @Test("§6.35.4 RCTD adds a 12-byte command timeouts descriptor to each")
    func timeouts() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.reportSupportedOperationCodes(rctd: true))).data
        #expect((data.count - 4) % 20 == 0)
        #expect(data[9] & 0x02 == 0x02)  // CTDP
        #expect(Array(data[12..<14]) == [0x00, 0x0A])
    }

    @Test("§6.35.3 one command: usage data starts with the operation code")
    func oneCommand() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command(CDB.reportSupportedOperationCodes(options: 1, opcode: 0x2A))).data
        #expect(Array(data[0..<4]) == [0, 0x03, 0, 10])
        #expect(data[4] == 0x2A)
        let unsupported = await target.execute(TestFixture.command(CDB.reportSupportedOperationCodes(options: 1, opcode: 0xC0))).data
        #expect(unsupported[1] & 0x07 == 0x01)
        let withServiceAction = await target.execute(TestFixture.command(CDB.reportSupportedOperationCodes(options: 1, opcode: 0x5E)))
        #expect(withServiceAction.hasSense(.invalidFieldInCDB))
        let byAction = await target.execute(
            TestFixture.command(CDB.reportSupportedOperationCodes(options: 2, opcode: 0x9E, serviceAction: 0x10))).data
        #expect(Array(byAction[4..<6]) == [0x9E, 0xF0])
    }

    @Test("§6.36 REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS")
    func taskManagementFunctions() async {
        let target = await Self.readyTarget()
        let data = await target.execute(TestFixture.command([0xA3, 0x0D, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0])).data
        #expect(data == [0xDA, 0, 0, 0])
    }
}

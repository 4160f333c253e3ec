import BlockStorage
import ISCSIProtocol
import ISCSISession
import LUNBackends
import NIOConcurrencyHelpers
import NIOCore
import Logging
import NIOEmbedded
import SCSIEngine
import Testing

@testable import ISCSITransport

/// The target pipeline end to end on an in-memory channel (STYLE.md §7 layer 3):
/// login, SCSI commands with Data-In/R2T/Data-Out, NOP, Text and Logout.
@Suite("TargetConnectionHandler")
struct TargetConnectionHandlerTests {
    /// Sends TEST UNIT READY until the power-on unit attention is gone.
    private func clearUnitAttention(_ harness: ConnectionHarness) async throws {
        try await harness.command(CDB.testUnitReady)
        _ = try await harness.nextPDU()
    }

    private func response(_ pdu: ISCSIPDU, sourceLocation: SourceLocation = #_sourceLocation) throws -> SCSIResponse {
        guard case .scsiResponse(let response) = pdu else {
            Issue.record("expected a SCSI Response, got \(pdu)", sourceLocation: sourceLocation)
            throw HarnessError.unexpectedPDU
        }
        return response
    }

    private func dataIn(_ pdu: ISCSIPDU, sourceLocation: SourceLocation = #_sourceLocation) throws -> DataIn {
        guard case .dataIn(let dataIn) = pdu else {
            Issue.record("expected Data-In, got \(pdu)", sourceLocation: sourceLocation)
            throw HarnessError.unexpectedPDU
        }
        return dataIn
    }

    private func r2t(_ pdu: ISCSIPDU, sourceLocation: SourceLocation = #_sourceLocation) throws -> ReadyToTransfer {
        guard case .readyToTransfer(let r2t) = pdu else {
            Issue.record("expected R2T, got \(pdu)", sourceLocation: sourceLocation)
            throw HarnessError.unexpectedPDU
        }
        return r2t
    }

    @Test("login reaches Full Feature Phase with a TSIH")
    func login() async throws {
        let harness = try await ConnectionHarness()
        let parameters = try await harness.login()
        #expect(harness.tsih != .new)
        #expect(parameters.peerMaxRecvDataSegmentLength == NegotiationPolicy().maxRecvDataSegmentLength)
        let first = try #require(harness.loginResponses.first)
        let text = try TextParameters(decoding: Array(first.data.readableBytesView))
        #expect(text["TargetPortalGroupTag"] == "1")
        #expect(harness.loginResponses.last?.tsih == harness.tsih)
        #expect(harness.channel.isActive)
    }

    @Test("TEST UNIT READY: unit attention first, then GOOD")
    func testUnitReady() async throws {
        let harness = try await ConnectionHarness()
        try await harness.login()
        let firstTag = try await harness.command(CDB.testUnitReady)
        let first = try response(try await harness.nextPDU())
        #expect(first.initiatorTaskTag == firstTag)
        #expect(first.status == 0x02, "CHECK CONDITION")
        #expect(first.sense.count >= 14)
        #expect(first.sense[2] & 0x0F == 0x06, "UNIT ATTENTION")
        #expect(first.sense[12] == 0x29, "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED")
        #expect(first.sequence.expCmdSN == SequenceNumber(2))

        let secondTag = try await harness.command(CDB.testUnitReady)
        let second = try response(try await harness.nextPDU())
        #expect(second.initiatorTaskTag == secondTag)
        #expect(second.status == 0)
        #expect(second.sense.isEmpty)
        #expect(second.sequence.statSN == first.sequence.statSN.advanced(by: 1))
        #expect(second.residual == .none)
    }

    @Test("READ(10): one Data-In with status (phase collapse) and residual underflow")
    func read10() async throws {
        let harness = try await ConnectionHarness()
        try await harness.login()
        try await clearUnitAttention(harness)
        let tag = try await harness.command(CDB.read10(lba: 0, blocks: 8), read: true, expectedLength: 8192)
        let pdu = try dataIn(try await harness.nextPDU())
        #expect(pdu.initiatorTaskTag == tag)
        #expect(pdu.isFinal)
        #expect(pdu.status == 0)
        #expect(pdu.residual == .underflow(4096))
        #expect(pdu.dataSN == SequenceNumber(0))
        #expect(pdu.bufferOffset == 0)
        #expect(pdu.data.readableBytes == 4096)
        #expect(pdu.data.readableBytesView.allSatisfy { $0 == 0 }, "a fresh RAM disk reads zeros")
        #expect(try await harness.nothingPending(), "no separate SCSI Response after phase collapse")
    }

    @Test("a backend that suspends: the command resumes on the connection's loop and is answered")
    func suspendingBackend() async throws {
        let disk = YieldingRAMDisk(RAMBlockDevice(blockSize: ConnectionHarness.blockSize, blockCount: 64))
        let harness = try await ConnectionHarness(blockDevice: disk)
        disk.connectionLoop.withLockedValue { $0 = harness.channel.eventLoop }
        try await harness.login()
        try await clearUnitAttention(harness)
        let payload = ByteBuffer.pattern(1024, seed: 3)
        let writeTag = try await harness.command(CDB.write10(lba: 8, blocks: 2), write: true, expectedLength: 1024, immediateData: payload)
        let written = try response(try await harness.nextPDU())
        #expect(written.initiatorTaskTag == writeTag)
        #expect(written.status == 0)
        let readTag = try await harness.command(CDB.read10(lba: 8, blocks: 2), read: true, expectedLength: 1024)
        let read = try dataIn(try await harness.nextPDU())
        #expect(read.initiatorTaskTag == readTag)
        #expect(read.status == 0)
        #expect(read.data == payload)
        #expect(disk.resumedOnConnectionLoop.withLockedValue { $0 } == [true, true], "both commands suspended and resumed on the loop")
    }

    @Test("READ(10) split by the initiator's MaxRecvDataSegmentLength; status only on the last Data-In")
    func read10Split() async throws {
        let harness = try await ConnectionHarness()
        var policy = NegotiationPolicy()
        policy.maxRecvDataSegmentLength = 1024
        try await harness.login(policy: policy)
        try await clearUnitAttention(harness)
        let tag = try await harness.command(CDB.read10(lba: 0, blocks: 6), read: true, expectedLength: 3072)
        var offsets: [UInt32] = []
        for index in 0..<3 {
            let pdu = try dataIn(try await harness.nextPDU())
            #expect(pdu.initiatorTaskTag == tag)
            #expect(pdu.dataSN == SequenceNumber(UInt32(index)))
            #expect(pdu.data.readableBytes == 1024)
            #expect((pdu.status != nil) == (index == 2))
            offsets.append(pdu.bufferOffset)
            if index == 2 {
                #expect(pdu.isFinal)
                #expect(pdu.residual == .none)
            }
        }
        #expect(offsets == [0, 1024, 2048])
    }

    @Test("WRITE(10): immediate data, R2Ts for the rest, Data-Out, then read back")
    func write10() async throws {
        let harness = try await ConnectionHarness()
        var policy = NegotiationPolicy()
        policy.initialR2T = true
        policy.maxBurstLength = 4096
        policy.firstBurstLength = 4096
        let parameters = try await harness.login(policy: policy)
        #expect(parameters.initialR2T && parameters.immediateData)
        #expect(parameters.maxBurstLength == 4096)
        try await clearUnitAttention(harness)

        let payload = ByteBuffer.pattern(8192, seed: 7)
        let tag = try await harness.command(CDB.write10(lba: 100, blocks: 16), write: true, expectedLength: 8192,
                                            immediateData: payload.getSlice(at: 0, length: 1024)!)
        var r2tCount: UInt32 = 0
        var sent = 1024
        while sent < 8192 {
            let request = try r2t(try await harness.nextPDU())
            #expect(request.initiatorTaskTag == tag)
            #expect(request.r2tSN == SequenceNumber(r2tCount))
            #expect(request.bufferOffset == UInt32(sent))
            #expect(request.desiredDataTransferLength == UInt32(min(4096, 8192 - sent)))
            // Answer each R2T in two Data-Out PDUs.
            let length = Int(request.desiredDataTransferLength)
            let half = length / 2
            for (index, range) in [(0, 0..<half), (1, half..<length)] {
                var dataOut = DataOut()
                dataOut.isFinal = index == 1
                dataOut.initiatorTaskTag = tag
                dataOut.targetTransferTag = request.targetTransferTag
                dataOut.expStatSN = harness.expStatSN
                dataOut.dataSN = SequenceNumber(UInt32(index))
                dataOut.bufferOffset = UInt32(sent + range.lowerBound)
                dataOut.data = payload.getSlice(at: sent + range.lowerBound, length: range.count)!
                try await harness.send(.dataOut(dataOut))
            }
            sent += length
            r2tCount += 1
        }
        #expect(r2tCount == 2)
        let done = try response(try await harness.nextPDU())
        #expect(done.initiatorTaskTag == tag)
        #expect(done.status == 0)
        #expect(done.residual == .none)
        #expect(done.expDataSN == SequenceNumber(r2tCount), "ExpDataSN counts R2Ts for writes (§11.4.8)")

        try await harness.command(CDB.read10(lba: 100, blocks: 16), read: true, expectedLength: 8192)
        var readBack = ByteBuffer()
        while true {
            var pdu = try dataIn(try await harness.nextPDU())
            readBack.writeBuffer(&pdu.data)
            if pdu.status != nil { break }
        }
        #expect(readBack == payload)
    }

    @Test("Data-Out at the wrong offset is rejected")
    func badDataOut() async throws {
        let harness = try await ConnectionHarness()
        var policy = NegotiationPolicy()
        policy.initialR2T = true
        try await harness.login(policy: policy)
        try await clearUnitAttention(harness)
        let tag = try await harness.command(CDB.write10(lba: 0, blocks: 2), write: true, expectedLength: 1024)
        let request = try r2t(try await harness.nextPDU())
        var dataOut = DataOut()
        dataOut.isFinal = true
        dataOut.initiatorTaskTag = tag
        dataOut.targetTransferTag = request.targetTransferTag
        dataOut.bufferOffset = 512
        dataOut.data = .pattern(512, seed: 1)
        try await harness.send(.dataOut(dataOut))
        guard case .reject(let reject) = try await harness.nextPDU() else {
            Issue.record("expected a Reject")
            return
        }
        #expect(reject.reason == ISCSIRejectReason.protocolError.rawValue)
        #expect(BasicHeaderSegment(bytes: reject.rejectedHeader).opcode == .dataOut)
    }

    @Test("NOP-Out ping is answered with a NOP-In echoing its data")
    func nopPing() async throws {
        let harness = try await ConnectionHarness()
        try await harness.login()
        var nop = NOPOut()
        nop.immediate = true
        nop.initiatorTaskTag = InitiatorTaskTag(0x77)
        nop.targetTransferTag = .reserved
        nop.cmdSN = harness.cmdSN
        nop.expStatSN = harness.expStatSN
        nop.data = .pattern(5, seed: 3)
        try await harness.send(.nopOut(nop))
        guard case .nopIn(let reply) = try await harness.nextPDU() else {
            Issue.record("expected a NOP-In")
            return
        }
        #expect(reply.initiatorTaskTag == InitiatorTaskTag(0x77))
        #expect(reply.targetTransferTag == .reserved)
        #expect(reply.data == ByteBuffer.pattern(5, seed: 3))
        #expect(reply.sequence.expCmdSN == harness.cmdSN, "an immediate NOP-Out does not advance ExpCmdSN")
    }

    @Test("digests negotiated at login apply from the first Full Feature Phase PDU (ARCHITECTURE.md §5)")
    func digests() async throws {
        let harness = try await ConnectionHarness()
        var policy = NegotiationPolicy()
        policy.headerDigests = ["CRC32C"]
        policy.dataDigests = ["CRC32C"]
        let parameters = try await harness.login(policy: policy)
        #expect(parameters.headerDigest && parameters.dataDigest)

        var nop = NOPOut()
        nop.initiatorTaskTag = InitiatorTaskTag(0x21)
        nop.cmdSN = harness.cmdSN
        nop.expStatSN = harness.expStatSN
        nop.data = .pattern(7, seed: 9)
        try await harness.send(.nopOut(nop))
        guard case .nopIn(let reply) = try await harness.nextPDU() else {
            Issue.record("expected a NOP-In")
            return
        }
        #expect(reply.data == ByteBuffer.pattern(7, seed: 9))

        // A corrupted data segment is answered with Reject and the connection stays.
        nop.initiatorTaskTag = InitiatorTaskTag(0x22)
        var corrupted = harness.encode(.nopOut(nop))
        let dataOffset = 48 + 4
        corrupted.setInteger(corrupted.getInteger(at: dataOffset, as: UInt8.self)! ^ 0xFF, at: dataOffset)
        try await harness.channel.writeInbound(corrupted)
        guard case .reject(let reject) = try await harness.nextPDU() else {
            Issue.record("expected a Reject")
            return
        }
        #expect(reject.reason == ISCSIRejectReason.dataDigestError.rawValue)
        #expect(BasicHeaderSegment(bytes: reject.rejectedHeader).initiatorTaskTag == InitiatorTaskTag(0x22))
        #expect(harness.channel.isActive)
    }

    @Test("commands arriving out of CmdSN order run in order")
    func cmdSNOrdering() async throws {
        let harness = try await ConnectionHarness()
        try await harness.login()
        try await clearUnitAttention(harness)
        let first = harness.cmdSN
        // Send CmdSN n+1 first: it must wait for n.
        harness.cmdSN = first.advanced(by: 1)
        let later = try await harness.command(CDB.testUnitReady)
        #expect(try await harness.nothingPending())
        harness.cmdSN = first
        let earlier = try await harness.command(CDB.testUnitReady)
        var tags: Set<InitiatorTaskTag> = []
        for _ in 0..<2 {
            let done = try response(try await harness.nextPDU())
            #expect(done.status == 0)
            tags.insert(done.initiatorTaskTag)
        }
        #expect(tags == [earlier, later])
        #expect(harness.expStatSN.rawValue >= 2)
    }

    @Test("Logout: response, then the connection closes")
    func logout() async throws {
        let harness = try await ConnectionHarness()
        try await harness.login()
        var logout = LogoutRequest()
        logout.immediate = true
        logout.reasonCode = LogoutReason.closeSession.rawValue
        logout.initiatorTaskTag = InitiatorTaskTag(0x99)
        logout.cmdSN = harness.cmdSN
        logout.expStatSN = harness.expStatSN
        try await harness.send(.logoutRequest(logout))
        guard case .logoutResponse(let response) = try await harness.nextPDU() else {
            Issue.record("expected a Logout Response")
            return
        }
        #expect(response.response == .success)
        #expect(response.initiatorTaskTag == InitiatorTaskTag(0x99))
        for _ in 0..<200 where harness.channel.isActive {
            await harness.channel.testingEventLoop.run()
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(!harness.channel.isActive)
    }

    @Test("SendTargets=All in a discovery session lists the target and its portal")
    func sendTargets() async throws {
        let harness = try await ConnectionHarness()
        try await harness.login(targetName: nil)
        var text = TextRequest()
        text.immediate = true
        text.initiatorTaskTag = InitiatorTaskTag(0x55)
        text.cmdSN = harness.cmdSN
        text.expStatSN = harness.expStatSN
        text.data = ByteBuffer(bytes: TextParameters([("SendTargets", "All")]).encoded)
        try await harness.send(.textRequest(text))
        guard case .textResponse(let response) = try await harness.nextPDU() else {
            Issue.record("expected a Text Response")
            return
        }
        #expect(response.isFinal)
        #expect(response.initiatorTaskTag == InitiatorTaskTag(0x55))
        #expect(response.targetTransferTag == .reserved)
        let answer = try TextParameters(decoding: Array(response.data.readableBytesView))
        #expect(answer == TextParameters([("TargetName", ConnectionHarness.targetName), ("TargetAddress", "127.0.0.1:3260,1")]))
    }

    /// The answer to SendTargets=`selector` on `harness`'s session.
    private static func sendTargets(_ harness: ConnectionHarness, _ selector: String) async throws -> [String] {
        var text = TextRequest()
        text.immediate = true
        text.initiatorTaskTag = InitiatorTaskTag(0x56)
        text.cmdSN = harness.cmdSN
        text.expStatSN = harness.expStatSN
        text.data = ByteBuffer(bytes: TextParameters([("SendTargets", selector)]).encoded)
        try await harness.send(.textRequest(text))
        guard case .textResponse(let response) = try await harness.nextPDU() else {
            Issue.record("expected a Text Response")
            return []
        }
        return try TextParameters(decoding: Array(response.data.readableBytesView)).pairs.filter { $0.key == "TargetName" }.map(\.value)
    }

    /// The test target first, then one the test initiator may not log in to by name,
    /// one it may not reach from its network (192.0.2.10), and one it may use.
    private static func servicesWithOtherTargets() -> TargetServices {
        let first = ConnectionHarness.makeTarget(blockDevice: RAMBlockDevice(blockSize: ConnectionHarness.blockSize, blockCount: 64))
        func other(_ suffix: String, allowedInitiators: [String] = [], peerAllowed: @escaping @Sendable (SocketAddress) -> Bool = { _ in true }) -> ExportedTarget {
            let name = "iqn.2024-01.org.swiftport.test:\(suffix)"
            let device = SCSITargetDevice(
                targetName: name,
                logicalUnits: [
                    LogicalUnitDescriptor(
                        lun: 0, device: RAMBlockDevice(blockSize: 512, blockCount: 64), product: "RAM-DISK", revision: "0001",
                        serial: "SP\(suffix)", naaIdentifier: LogicalUnitDescriptor.naaIdentifier(seed: name))
                ], logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
            return ExportedTarget(
                name: name, device: device, allowedInitiators: allowedInitiators, peerAllowed: peerAllowed,
                portalGroups: [.init(tag: 1, portals: [ConnectionHarness.portal])])
        }
        return TargetServices(
            targets: [
                first, other("named", allowedInitiators: ["iqn.2024-01.org.swiftport.test:someone-else"]),
                other("fenced-off", peerAllowed: { _ in false }), other("open"),
            ],
            nopInInterval: nil, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }

    @Test("SendTargets never names a target the initiator may not log in to, by name or by network")
    func sendTargetsLeavesOutForbiddenTargets() async throws {
        let harness = try await ConnectionHarness(services: Self.servicesWithOtherTargets())
        try await harness.login(targetName: nil)
        #expect(try await Self.sendTargets(harness, "All") == [ConnectionHarness.targetName, "iqn.2024-01.org.swiftport.test:open"])
        #expect(try await Self.sendTargets(harness, "iqn.2024-01.org.swiftport.test:fenced-off").isEmpty)
    }

    @Test("SendTargets=All in a Normal session names the session's own target only (RFC 7143 Appendix C)")
    func sendTargetsAllInNormalSession() async throws {
        let harness = try await ConnectionHarness(services: Self.servicesWithOtherTargets())
        try await harness.login()
        #expect(try await Self.sendTargets(harness, "All") == [ConnectionHarness.targetName])
        #expect(try await Self.sendTargets(harness, "") == [ConnectionHarness.targetName])
    }

    @Test("a SCSI command in a discovery session is rejected")
    func commandInDiscovery() async throws {
        let harness = try await ConnectionHarness()
        try await harness.login(targetName: nil)
        try await harness.command(CDB.testUnitReady)
        guard case .reject(let reject) = try await harness.nextPDU() else {
            Issue.record("expected a Reject")
            return
        }
        #expect(reject.reason == ISCSIRejectReason.protocolError.rawValue)
    }
}

/// A RAM disk that yields in every read and write, as a backend on a thread pool or
/// the network suspends: the command's task resumes through its executor.
private final class YieldingRAMDisk: BlockDevice {
    private let ram: RAMBlockDevice
    /// The loop of the connection the commands come from.
    let connectionLoop = NIOLockedValueBox<(any EventLoop)?>(nil)
    /// For each read and write, whether it continued on that loop after yielding.
    let resumedOnConnectionLoop = NIOLockedValueBox<[Bool]>([])

    init(_ ram: RAMBlockDevice) {
        self.ram = ram
    }

    var geometry: BlockGeometry { ram.geometry }

    private func suspend() async {
        await Task.yield()
        let onLoop = connectionLoop.withLockedValue { $0?.inEventLoop ?? false }
        resumedOnConnectionLoop.withLockedValue { $0.append(onLoop) }
    }

    func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        await suspend()
        return try await ram.read(at: lba, blockCount: blockCount, allocator: allocator)
    }

    func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try await write(SegmentedBuffer(data), at: lba, forceUnitAccess: forceUnitAccess)
    }

    func write(_ data: SegmentedBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        await suspend()
        try await ram.write(data, at: lba, forceUnitAccess: forceUnitAccess)
    }

    func flush() async throws {}

    func unmap(at lba: UInt64, blockCount: Int) async throws {
        try await ram.unmap(at: lba, blockCount: blockCount)
    }
}

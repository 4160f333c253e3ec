import BlockStorage
import ISCSIProtocol
import ISCSISession
import LUNBackends
import Logging
import NIOCore
import NIOEmbedded
import SCSIEngine
import Testing

@testable import ISCSITransport

/// The real target pipeline (framer, `TargetConnectionHandler`) on a
/// `NIOAsyncTestingChannel`, with the test playing the initiator: PDUs are encoded
/// into the channel and its outbound bytes framed back into PDUs.
///
/// `NIOAsyncTestingChannel` rather than `EmbeddedChannel`: the handler runs SCSI
/// commands in a Swift `Task` that hops back with `eventLoop.execute` from another
/// thread, which `EmbeddedEventLoop` does not allow.
final class ConnectionHarness {
    static let targetName = "iqn.2024-01.org.swiftport.test:disk"
    static let initiatorName = "iqn.2024-01.org.swiftport.test:initiator"
    static let portal = Portal(host: "127.0.0.1", port: 3260)
    static let blockSize = 512

    let channel: NIOAsyncTestingChannel
    let device: SCSITargetDevice
    /// How we frame what the target sends, and how we frame what we send: digests
    /// switch on after login when negotiated, as the target's own framing does.
    private let inboundSettings = ISCSIFramingSettings()
    private let outboundSettings = ISCSIFramingSettings()
    private var received = ByteBuffer()
    private var nextTag: UInt32 = 0x100

    var cmdSN = SequenceNumber(1)
    var expStatSN = SequenceNumber(0)
    private(set) var tsih = TSIH.new
    private(set) var loginResponses: [LoginResponse] = []

    /// LUN 0 is `blockDevice`, by default a RAM disk of `blockCount` blocks.
    convenience init(blockCount: UInt64 = 2048, blockDevice: (any BlockDevice)? = nil, nopInInterval: TimeAmount? = nil) async throws {
        let target = Self.makeTarget(blockDevice: blockDevice ?? RAMBlockDevice(blockSize: Self.blockSize, blockCount: blockCount))
        try await self.init(services: Self.makeServices(target, nopInInterval: nopInInterval))
    }

    /// A connection to `services`' first target: harnesses made from the same services
    /// are sessions of one target, sharing its device server and session table.
    init(services: TargetServices) async throws {
        let channel = NIOAsyncTestingChannel()
        let peer = try SocketAddress(ipAddress: "192.0.2.10", port: 50000)
        try await channel.eventLoop.submit {
            let framing = ISCSIFramingSettings()
            try channel.pipeline.syncOperations.addHandler(
                TargetConnectionHandler(services: services, portal: Self.portal, framing: framing, peer: peer, localAddress: nil))
        }.get()
        try await channel.connect(to: peer).get()
        self.channel = channel
        self.device = services.targets[0].device
        inboundSettings.maxReceiveDataSegmentLength = ISCSIFramingSettings.largestDataSegmentLength
    }

    /// The test target with `blockDevice` as LUN 0.
    static func makeTarget(blockDevice: any BlockDevice) -> ExportedTarget {
        let device = SCSITargetDevice(
            targetName: targetName,
            logicalUnits: [
                LogicalUnitDescriptor(
                    lun: 0, device: blockDevice, product: "RAM-DISK",
                    revision: "0001", serial: "SPTEST0", naaIdentifier: LogicalUnitDescriptor.naaIdentifier(seed: targetName))
            ],
            logger: logger)
        return ExportedTarget(name: targetName, device: device, portalGroups: [.init(tag: 1, portals: [portal])])
    }

    static func makeServices(_ target: ExportedTarget, nopInInterval: TimeAmount? = nil) -> TargetServices {
        TargetServices(targets: [target], nopInInterval: nopInInterval, logger: logger)
    }

    private static let logger = Logger(label: "transport-test") { _ in SwiftLogNoOpLogHandler() }

    // MARK: - Sending

    /// Writes one PDU into the target as wire bytes.
    func send(_ pdu: ISCSIPDU) async throws {
        try await channel.writeInbound(encode(pdu))
    }

    /// The wire bytes of one PDU with the digests currently in force.
    func encode(_ pdu: ISCSIPDU) -> ByteBuffer {
        let frame = ISCSIPDUEncoder.encode(pdu.message, settings: outboundSettings)
        var bytes = frame.header
        if var data = frame.data { bytes.writeBuffer(&data) }
        if var trailer = frame.trailer { bytes.writeBuffer(&trailer) }
        return bytes
    }

    /// A fresh Initiator Task Tag.
    func makeTag() -> InitiatorTaskTag {
        defer { nextTag += 1 }
        return InitiatorTaskTag(nextTag)
    }

    /// Sends a SCSI Command with the next CmdSN; returns its task tag.
    @discardableResult
    func command(_ cdb: [UInt8], read: Bool = false, write: Bool = false, expectedLength: UInt32 = 0,
                 immediateData: ByteBuffer = ByteBuffer(), final: Bool = true,
                 attribute: TaskAttribute = .simple) async throws -> InitiatorTaskTag {
        var command = SCSICommandRequest()
        command.attribute = attribute
        command.isRead = read
        command.isWrite = write
        command.isFinal = final
        command.lun = 0
        command.initiatorTaskTag = makeTag()
        command.expectedDataTransferLength = expectedLength
        command.cmdSN = cmdSN
        command.expStatSN = expStatSN
        command.cdb = cdb + [UInt8](repeating: 0, count: max(0, 16 - cdb.count))
        command.data = immediateData
        cmdSN = cmdSN.advanced(by: 1)
        try await send(.scsiCommand(command))
        return command.initiatorTaskTag
    }

    /// Answers `r2t` of task `tag` with one Data-Out PDU carrying `data`, F set.
    func sendFinalDataOut(_ data: ByteBuffer, task tag: InitiatorTaskTag, answering r2t: ReadyToTransfer) async throws {
        var dataOut = DataOut()
        dataOut.isFinal = true
        dataOut.initiatorTaskTag = tag
        dataOut.targetTransferTag = r2t.targetTransferTag
        dataOut.bufferOffset = r2t.bufferOffset
        dataOut.expStatSN = expStatSN
        dataOut.data = data
        try await send(.dataOut(dataOut))
    }

    /// Sends a Task Management Function Request (immediate, as initiators send them);
    /// returns its task tag.
    @discardableResult
    func taskManagement(_ function: TaskManagementFunctionCode, referencedTaskTag: InitiatorTaskTag = .reserved, refCmdSN: SequenceNumber? = nil) async throws -> InitiatorTaskTag {
        var request = TaskManagementRequest()
        request.function = function.rawValue
        request.initiatorTaskTag = makeTag()
        request.referencedTaskTag = referencedTaskTag
        request.cmdSN = cmdSN
        request.expStatSN = expStatSN
        request.refCmdSN = refCmdSN ?? cmdSN
        try await send(.taskManagementRequest(request))
        return request.initiatorTaskTag
    }

    // MARK: - Receiving

    /// The next PDU the target sent, waiting (bounded) for the engine's task to hop back.
    func nextPDU(sourceLocation: SourceLocation = #_sourceLocation) async throws -> ISCSIPDU {
        guard let pdu = try await nextPDU(within: .seconds(3), sourceLocation: sourceLocation) else {
            Issue.record("no PDU from the target within 3 s", sourceLocation: sourceLocation)
            throw HarnessError.timeout
        }
        return pdu
    }

    /// The next PDU the target sends within `limit`, or nil when it sends none.
    func nextPDU(within limit: Duration, sourceLocation: SourceLocation = #_sourceLocation) async throws -> ISCSIPDU? {
        let deadline = ContinuousClock.now + limit
        while true {
            if let frame = try ISCSIPDUFramer.decodeFrame(from: &received, settings: inboundSettings) {
                guard case .pdu(let pdu) = frame else {
                    Issue.record("the target sent an undecodable PDU: \(frame)", sourceLocation: sourceLocation)
                    throw HarnessError.undecodable
                }
                if let status = Self.statSN(of: pdu) { expStatSN = status.advanced(by: 1) }
                if case .nopIn(let ping) = pdu, ping.initiatorTaskTag == .reserved, ping.targetTransferTag != .reserved {
                    // A ping (keepalive, or asking for our ExpStatSN): answered as an
                    // initiator must (RFC 7143 §11.19), not handed to the test.
                    try await answer(ping)
                    continue
                }
                return pdu
            }
            if var more = try await channel.readOutbound(as: ByteBuffer.self) {
                received.writeBuffer(&more)
                continue
            }
            guard ContinuousClock.now < deadline else { return nil }
            await channel.testingEventLoop.run()
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    private func answer(_ ping: NOPIn) async throws {
        var answer = NOPOut()
        answer.immediate = true
        answer.initiatorTaskTag = .reserved
        answer.targetTransferTag = ping.targetTransferTag
        answer.lun = ping.lun
        answer.cmdSN = cmdSN
        answer.expStatSN = expStatSN
        try await send(.nopOut(answer))
    }

    /// Whether nothing more is waiting to be read right now.
    func nothingPending() async throws -> Bool {
        await channel.testingEventLoop.run()
        if var more = try await channel.readOutbound(as: ByteBuffer.self) { received.writeBuffer(&more) }
        return received.readableBytes == 0
    }

    /// StatSN of PDUs that consume one (§4.2.2.2): responses, not R2T or bare Data-In.
    private static func statSN(of pdu: ISCSIPDU) -> SequenceNumber? {
        switch pdu {
        case .scsiResponse(let m): m.sequence.statSN
        case .dataIn(let m): m.status == nil ? nil : m.sequence.statSN
        case .nopIn(let m): m.initiatorTaskTag == .reserved ? nil : m.sequence.statSN
        case .loginResponse(let m): m.sequence.statSN
        case .textResponse(let m): m.sequence.statSN
        case .logoutResponse(let m): m.sequence.statSN
        case .taskManagementResponse(let m): m.sequence.statSN
        case .reject(let m): m.sequence.statSN
        default: nil
        }
    }

    // MARK: - Login

    /// Logs in with `InitiatorLoginStateMachine` over the channel; returns its outcome.
    @discardableResult
    func login(
        targetName: String? = ConnectionHarness.targetName, policy: NegotiationPolicy = NegotiationPolicy(),
        isid: ISID = ISID(rawValue: 0x4000_0000_0001)
    ) async throws -> OperationalParameters {
        var initiator = InitiatorLoginStateMachine(
            configuration: .init(initiatorName: Self.initiatorName, targetName: targetName, isid: isid,
                                 initiatorTaskTag: InitiatorTaskTag(0xAB), cmdSN: cmdSN, expStatSN: expStatSN, policy: policy),
            randomBytes: { [UInt8](repeating: 0x42, count: $0) })
        var action = initiator.start()
        while case .sendRequest(let request) = action {
            try await send(.loginRequest(request))
            guard case .loginResponse(let response) = try await nextPDU() else {
                Issue.record("expected a Login Response")
                throw HarnessError.unexpectedPDU
            }
            loginResponses.append(response)
            action = initiator.receive(response)
        }
        guard case .complete(let parameters, let tsih) = action else {
            Issue.record("login failed: \(action)")
            throw HarnessError.loginFailed
        }
        self.tsih = tsih
        expStatSN = initiator.expStatSN
        for settings in [inboundSettings, outboundSettings] {
            settings.headerDigest = parameters.headerDigest
            settings.dataDigest = parameters.dataDigest
        }
        return parameters
    }
}

enum HarnessError: Error {
    case timeout, undecodable, unexpectedPDU, loginFailed
}

/// CDBs used by the tests (SBC-3, SPC-4).
enum CDB {
    static let testUnitReady: [UInt8] = [0x00, 0, 0, 0, 0, 0]

    static func read10(lba: UInt32, blocks: UInt16) -> [UInt8] {
        [0x28, 0] + bigEndian(lba) + [0] + bigEndian(blocks) + [0]
    }

    static func write10(lba: UInt32, blocks: UInt16) -> [UInt8] {
        [0x2A, 0] + bigEndian(lba) + [0] + bigEndian(blocks) + [0]
    }

    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<T.bitWidth / 8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}

extension ByteBuffer {
    /// `count` bytes of a pattern that differs per `seed`.
    static func pattern(_ count: Int, seed: UInt8) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seed)) })
    }
}

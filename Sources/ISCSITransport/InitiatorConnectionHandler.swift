import ISCSIProtocol
import ISCSISession
import Logging
import NIOCore

/// The channel handler behind `InitiatorConnection`: runs the login machine, then
/// numbers commands (ITT, CmdSN within MaxCmdSN), moves Data-Out on R2T, gathers
/// Data-In and completes each command's promise. Lives on its channel's event loop.
final class InitiatorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ISCSIInboundFrame
    typealias OutboundOut = ISCSIPDU

    private struct Pending {
        var lun: UInt64
        var dataOut: ByteBuffer?
        var dataIn: ByteBuffer
        var promise: EventLoopPromise<InitiatorConnection.CommandResult>
    }

    private var machine: InitiatorLoginStateMachine
    private let framing: ISCSIFramingSettings
    private let loginDone: EventLoopPromise<(OperationalParameters, UInt16?)>
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var loggedIn = false
    private var parameters = OperationalParameters()
    private var cmdSN = SequenceNumber(1)
    private var expStatSN = SequenceNumber(0)
    private var maxCmdSN = SequenceNumber(1)
    private var nextTaskTag: UInt32 = 1
    private var pending: [InitiatorTaskTag: Pending] = [:]
    /// Commands waiting for the target to open its CmdSN window (§4.2.2.1).
    private var waiting: [(SCSICommandRequest, InitiatorTaskTag)] = []
    private var textReply: (tag: InitiatorTaskTag, text: [UInt8], promise: EventLoopPromise<TextParameters>)?
    private var logoutPromise: EventLoopPromise<Void>?
    /// The portal this connection goes to, for errors.
    private let portal: Portal

    init(portal: Portal, machine: InitiatorLoginStateMachine, framing: ISCSIFramingSettings, loginDone: EventLoopPromise<(OperationalParameters, UInt16?)>, logger: Logger) {
        self.portal = portal
        self.machine = machine
        self.framing = framing
        self.loginDone = loginDone
        self.logger = logger
        cmdSN = machine.configuration.cmdSN
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.start())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let portalError = InitiatorError.connectionLost(portal)
        if !loggedIn { loginDone.fail(portalError) }
        for task in pending.values { task.promise.fail(portalError) }
        pending = [:]
        textReply?.promise.fail(portalError)
        textReply = nil
        logoutPromise?.succeed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("initiator connection error: \(error)")
        context.close(promise: nil)
    }

    // MARK: - Login

    private func perform(_ action: InitiatorLoginStateMachine.Action) {
        switch action {
        case .sendRequest(let request):
            write(.loginRequest(request), flush: true)
        case .complete(let negotiated, _):
            loggedIn = true
            parameters = negotiated
            framing.headerDigest = negotiated.headerDigest
            framing.dataDigest = negotiated.dataDigest
            framing.maxReceiveDataSegmentLength = max(negotiated.localMaxRecvDataSegmentLength, ISCSIFramingSettings.loginMaxDataSegmentLength)
            expStatSN = machine.expStatSN
            loginDone.succeed((negotiated, machine.targetPortalGroupTag))
        case .failed(let failure):
            loginDone.fail(InitiatorError.loginFailed(portal, failure))
            context?.close(promise: nil)
        }
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .pdu(let pdu) = unwrapInboundIn(data) else {
            context.close(promise: nil)  // a target PDU we cannot decode: ERL 0 drops the connection
            return
        }
        if !loggedIn {
            guard case .loginResponse(let response) = pdu else {
                context.close(promise: nil)
                return
            }
            perform(machine.receive(response))
            return
        }
        switch pdu {
        case .dataIn(let dataIn):
            advance(dataIn.sequence, consumesStatSN: dataIn.status != nil)
            guard var task = pending[dataIn.initiatorTaskTag] else { return }
            var data = dataIn.data
            task.dataIn.writeBuffer(&data)
            if let status = dataIn.status {
                pending[dataIn.initiatorTaskTag] = nil
                task.promise.succeed(.init(status: status, sense: [], dataIn: task.dataIn, residual: dataIn.residual))
            } else {
                pending[dataIn.initiatorTaskTag] = task
            }
        case .scsiResponse(let response):
            advance(response.sequence, consumesStatSN: true)
            guard let task = pending.removeValue(forKey: response.initiatorTaskTag) else { return }
            task.promise.succeed(.init(status: response.status, sense: response.sense, dataIn: task.dataIn, residual: response.residual))
        case .readyToTransfer(let r2t):
            advance(r2t.sequence, consumesStatSN: false)
            sendData(for: r2t)
        case .nopIn(let nop):
            advance(nop.sequence, consumesStatSN: nop.initiatorTaskTag != .reserved)
            if nop.targetTransferTag != .reserved {
                // The target's ping: answer with the same TTT (§11.18.1).
                var reply = NOPOut()
                reply.targetTransferTag = nop.targetTransferTag
                reply.lun = nop.lun
                reply.cmdSN = cmdSN
                reply.expStatSN = expStatSN
                write(.nopOut(reply), flush: true)
            }
        case .textResponse(let response):
            advance(response.sequence, consumesStatSN: true)
            guard var reply = textReply, reply.tag == response.initiatorTaskTag else { return }
            reply.text += response.data.getBytes(at: response.data.readerIndex, length: response.data.readableBytes) ?? []
            if response.isFinal {
                textReply = nil
                do { reply.promise.succeed(try TextParameters(decoding: reply.text)) } catch { reply.promise.fail(error) }
            } else {
                textReply = reply
                var next = TextRequest()
                next.initiatorTaskTag = reply.tag
                next.targetTransferTag = response.targetTransferTag
                next.cmdSN = takeCmdSN()
                next.expStatSN = expStatSN
                write(.textRequest(next), flush: true)
            }
        case .logoutResponse(let response):
            advance(response.sequence, consumesStatSN: true)
            logoutPromise?.succeed()
            logoutPromise = nil
        case .reject(let reject):
            advance(reject.sequence, consumesStatSN: true)
            if reject.rejectedHeader.count == BasicHeaderSegment.length {
                let tag = BasicHeaderSegment(bytes: reject.rejectedHeader).initiatorTaskTag
                pending.removeValue(forKey: tag)?.promise.fail(InitiatorError.protocolError(portal, "target rejected the PDU, reason 0x\(String(reject.reason, radix: 16))"))
            }
        case .asyncMessage(let message):
            advance(message.sequence, consumesStatSN: true)
            logger.notice("asynchronous message from the target", metadata: ["event": "\(message.asyncEvent)"])
        default:
            logger.notice("unexpected PDU from the target; closing")
            context.close(promise: nil)
        }
        flushWaiting()
    }

    /// Tracks StatSN and the command window from a target PDU (§4.2.2.1-§4.2.2.2).
    private func advance(_ sequence: StatusSequence, consumesStatSN: Bool) {
        if consumesStatSN, expStatSN.precedesOrEquals(sequence.statSN) { expStatSN = sequence.statSN.advanced(by: 1) }
        if maxCmdSN.precedes(sequence.maxCmdSN) { maxCmdSN = sequence.maxCmdSN }
    }

    // MARK: - Outbound

    func submit(cdb: [UInt8], lun: UInt16, dataOut: ByteBuffer?, expectedDataIn: Int, promise: EventLoopPromise<InitiatorConnection.CommandResult>) {
        guard loggedIn, let context, context.channel.isActive else {
            promise.fail(InitiatorError.connectionLost(portal))
            return
        }
        let tag = makeTaskTag()
        var command = SCSICommandRequest()
        command.initiatorTaskTag = tag
        command.lun = UInt64(lun) << 48  // single-level peripheral addressing (SAM-5 §4.7)
        command.cdb = cdb
        command.isRead = expectedDataIn > 0
        command.isWrite = dataOut != nil
        command.expectedDataTransferLength = UInt32(dataOut?.readableBytes ?? expectedDataIn)
        if var data = dataOut, parameters.immediateData {
            let immediate = min(data.readableBytes, parameters.firstBurstLength, parameters.peerMaxRecvDataSegmentLength)
            command.data = data.readSlice(length: immediate)!
        }
        command.isFinal = dataOut == nil || parameters.initialR2T || command.data.readableBytes == dataOut!.readableBytes
        pending[tag] = Pending(lun: command.lun, dataOut: dataOut, dataIn: context.channel.allocator.buffer(capacity: expectedDataIn), promise: promise)
        waiting.append((command, tag))
        flushWaiting()
    }

    /// Sends queued commands while the window allows (§4.2.2.1).
    private func flushWaiting() {
        var sent = false
        while let (command, tag) = waiting.first, cmdSN.precedesOrEquals(maxCmdSN) {
            waiting.removeFirst()
            guard pending[tag] != nil else { continue }
            var command = command
            command.cmdSN = takeCmdSN()
            command.expStatSN = expStatSN
            write(.scsiCommand(command), flush: false)
            if !command.isFinal, let dataOut = pending[tag]?.dataOut {
                // Unsolicited Data-Out up to FirstBurstLength (InitialR2T=No, §13.10).
                let start = command.data.readableBytes
                let end = min(dataOut.readableBytes, parameters.firstBurstLength)
                sendDataOut(dataOut, lun: command.lun, tag: tag, transferTag: .reserved, from: start, to: end)
            }
            sent = true
        }
        if sent { context?.flush() }
    }

    private func sendData(for r2t: ReadyToTransfer) {
        guard let task = pending[r2t.initiatorTaskTag], let dataOut = task.dataOut else { return }
        let start = Int(r2t.bufferOffset)
        let end = min(dataOut.readableBytes, start + Int(r2t.desiredDataTransferLength))
        sendDataOut(dataOut, lun: task.lun, tag: r2t.initiatorTaskTag, transferTag: r2t.targetTransferTag, from: start, to: end)
        context?.flush()
    }

    /// Data-Out PDUs for [start, end) of a buffer, each at most the target's
    /// MaxRecvDataSegmentLength, DataSN from 0, F on the last (§11.7).
    private func sendDataOut(_ buffer: ByteBuffer, lun: UInt64, tag: InitiatorTaskTag, transferTag: TargetTransferTag, from start: Int, to end: Int) {
        var offset = start
        var dataSN: UInt32 = 0
        while offset < end {
            let length = min(parameters.peerMaxRecvDataSegmentLength, end - offset)
            var pdu = DataOut()
            pdu.lun = lun
            pdu.initiatorTaskTag = tag
            pdu.targetTransferTag = transferTag
            pdu.expStatSN = expStatSN
            pdu.dataSN = SequenceNumber(dataSN)
            pdu.bufferOffset = UInt32(offset)
            pdu.data = buffer.getSlice(at: buffer.readerIndex + offset, length: length)!
            offset += length
            dataSN += 1
            pdu.isFinal = offset == end
            write(.dataOut(pdu), flush: false)
        }
    }

    func sendText(_ keys: TextParameters, promise: EventLoopPromise<TextParameters>) {
        guard loggedIn, textReply == nil else {
            promise.fail(InitiatorError.protocolError(portal, "a text exchange is already running or the session is not logged in"))
            return
        }
        var request = TextRequest()
        request.initiatorTaskTag = makeTaskTag()
        request.cmdSN = takeCmdSN()
        request.expStatSN = expStatSN
        request.data = ByteBuffer(bytes: keys.encoded)
        textReply = (request.initiatorTaskTag, [], promise)
        write(.textRequest(request), flush: true)
    }

    func logout(promise: EventLoopPromise<Void>) {
        guard loggedIn, context?.channel.isActive == true else {
            promise.succeed()
            return
        }
        logoutPromise = promise
        var request = LogoutRequest()
        request.immediate = true
        request.initiatorTaskTag = makeTaskTag()
        request.cmdSN = cmdSN
        request.expStatSN = expStatSN
        write(.logoutRequest(request), flush: true)
    }

    private func takeCmdSN() -> SequenceNumber {
        defer { cmdSN = cmdSN.advanced(by: 1) }
        return cmdSN
    }

    private func makeTaskTag() -> InitiatorTaskTag {
        defer { nextTaskTag = nextTaskTag == 0xFFFF_FFFE ? 1 : nextTaskTag + 1 }
        return InitiatorTaskTag(nextTaskTag)
    }

    private func write(_ pdu: ISCSIPDU, flush: Bool) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(pdu), promise: nil)
        } else {
            context.write(wrapOutboundOut(pdu), promise: nil)
        }
    }
}

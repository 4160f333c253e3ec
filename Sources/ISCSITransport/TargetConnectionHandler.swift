import ISCSIProtocol
import ISCSISession
import Logging
import NIOCore
import SCSIEngine

/// One iSCSI connection on the target side (one connection per session, ERL 0).
///
/// The Storport "port driver" half (ARCHITECTURE.md §2): it runs the login machine,
/// then owns the CmdSN window, R2T/Data-Out sequencing, Data-In/SCSI Response with
/// residuals, StatSN, NOP pings, Text, Logout, Reject and task management, and hands
/// complete commands to the `SCSITargetDevice` as tasks that start on the connection's
/// event loop and resume there when the backend suspends.
final class TargetConnectionHandler: ChannelInboundHandler {
    /// PDUs are framed here (`frames`) and encoded here (`send`), not by decoder and
    /// encoder handlers in the pipeline: each such handler cost every PDU a boxed
    /// `NIOAny`, a dynamic cast and a pipeline step.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One SCSI task of this session, from its command PDU to its response. A class,
    /// so that updating a task in the session's table never copies it or its data.
    private final class Task {
        let command: SCSICommandRequest
        /// Write data received so far (immediate data and Data-Out), as it arrived.
        var dataOut: DataOutBuffer
        var transfer: WriteTransfer?
        /// Reached its turn in CmdSN order.
        var delivered = false
        /// Handed to the device server.
        var executing = false
        /// R2Ts sent, for ExpDataSN in the response (§11.4.8).
        var r2tCount: UInt32 = 0

        init(command: SCSICommandRequest) {
            self.command = command
            self.dataOut = DataOutBuffer()
        }
    }

    /// A PDU waiting in the CmdSN window.
    private enum Ordered: Sendable {
        case scsi(InitiatorTaskTag)
        case nop(NOPOut)
        case text(TextRequest)
        case logout(LogoutRequest)
        case taskManagement(TaskManagementRequest)
    }

    private enum Phase {
        // Boxed: the login machine is large, and without the box every read of `phase`
        // on the per-PDU path copies the whole enum through its value witness.
        indirect case login(TargetLoginStateMachine)
        case fullFeature(Session)
        case closing
    }

    /// Full Feature Phase state. A class, so that the task table is updated in place
    /// rather than copied out of `phase` and back for every PDU.
    private final class Session {
        let login: LoginResult
        let tsih: TSIH
        let target: ExportedTarget?
        /// The target's device server, kept apart so the per-command path does not copy
        /// (and retain every field of) the whole `ExportedTarget`.
        let device: SCSITargetDevice?
        let nexus: ITNexus?
        var window: CommandWindow<Ordered>
        var statSN: SequenceNumber
        var tasks: [InitiatorTaskTag: Task] = [:]
        /// Text response still to be sent in continuation PDUs (§11.10.2).
        var pendingText: (tag: TargetTransferTag, initiatorTaskTag: InitiatorTaskTag, rest: [UInt8])?
        var parameters: OperationalParameters { login.parameters }

        init(login: LoginResult, tsih: TSIH, target: ExportedTarget?, nexus: ITNexus?, window: CommandWindow<Ordered>, statSN: SequenceNumber) {
            self.login = login
            self.tsih = tsih
            self.target = target
            self.device = target?.device
            self.nexus = nexus
            self.window = window
            self.statSN = statSN
        }
    }

    private let services: TargetServices
    private let portal: Portal
    private let framing: ISCSIFramingSettings
    private var frames = ISCSIPDUStreamDecoder()
    private var logger: Logger
    private var phase: Phase
    private var context: ChannelHandlerContext?
    private var nextTransferTag: UInt32 = 1
    /// The `EventLoopTaskExecutor` of this connection's loop, made on first use.
    private var taskExecutor: EventLoopTaskExecutor?
    /// A flush is queued on the loop (see `scheduleFlush`).
    private var flushPending = false
    /// Between the first channelRead of a read batch and channelReadComplete, which
    /// flushes whatever the batch's commands answered.
    private var inReadBatch = false
    /// NOP-In ping bookkeeping (RFC 7143 §11.19): when we last heard from the peer,
    /// and the ping we are waiting on.
    private var lastHeard = NIODeadline.now()
    private var outstandingPing: (tag: TargetTransferTag, deadline: NIODeadline)?
    private var pingTimer: RepeatedTask?
    /// The session this connection registered and its I_T nexus, released when the
    /// connection ends whatever phase it ends in (logout, reset, error).
    private var registration: (tsih: TSIH, target: ExportedTarget?, nexus: ITNexus?)?

    init(services: TargetServices, portal: Portal, framing: ISCSIFramingSettings, peer: SocketAddress?) {
        self.services = services
        self.portal = portal
        self.framing = framing
        var logger = services.logger
        logger[metadataKey: "peer"] = "\(peer?.description ?? "?")"
        logger[metadataKey: "portal"] = "\(portal)"
        self.logger = logger
        let loginConfiguration = services.loginConfiguration(portal: portal, peer: peer)
        phase = .login(TargetLoginStateMachine(configuration: loginConfiguration, randomBytes: { count in
            (0..<count).map { _ in UInt8.random(in: 0...255) }
        }))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if services.faults.shouldDropNewConnection(on: portal) {
            logger.notice("fault injection: dropping new connection")
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pingTimer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTimer?.cancel()
        if let registration {
            services.sessions.close(registration.tsih)
            // I_T nexus loss (SAM-5 §6.3.4): the device server drops what the nexus held.
            // Tasks still running finish in the device server; their results are dropped
            // here, so no half-done state is left in the session (ERL 0).
            if let target = registration.target, let nexus = registration.nexus { target.device.nexusLogout(nexus) }
            var pending = 0
            if case .fullFeature(let session) = phase { pending = session.tasks.count }
            logger.info("session ended", metadata: ["tsih": "\(registration.tsih)", "tasks": "\(pending)"])
        }
        phase = .closing
        frames.reset()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("closing connection: \(error)")
        close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inReadBatch = true
        var input = unwrapInboundIn(data)
        do {
            while let frame = try frames.next(from: &input, settings: framing) {
                receive(frame)
            }
        } catch {
            // The stream has lost its PDU boundaries (RFC 7143 §6.2): nothing after
            // this can be answered, so the connection goes.
            errorCaught(context: context, error: error)
        }
    }

    private func receive(_ frame: ISCSIInboundFrame) {
        switch frame {
        case .pdu(let pdu):
            receive(pdu)
        case .reject(let reason, let header, let error):
            logger.notice("rejecting PDU: \(error)")
            if case .login = phase {
                close()
            } else {
                sendReject(reason, header: header)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Once per read batch rather than per PDU: the clock is read, and everything the
        // batch produced (R2Ts, responses) flushed, once.
        lastHeard = .now()
        inReadBatch = false
        context.flush()
    }

    // MARK: - Dispatch

    private func receive(_ pdu: ISCSIPDU) {
        switch phase {
        case .closing:
            return
        case .login(var machine):
            guard case .loginRequest(let request) = pdu else {
                // Only Login Requests are legal before Full Feature Phase (RFC 7143 §6.3).
                logger.notice("non-login PDU during login; closing")
                close()
                return
            }
            let action = machine.receive(request)
            phase = .login(machine)
            perform(action)
        case .fullFeature(var session):
            switch pdu {
            case .scsiCommand(let command): receiveCommand(command, session: &session)
            case .dataOut(let data): receiveDataOut(data, session: &session)
            case .nopOut(let nop):
                if nop.initiatorTaskTag == .reserved {
                    // The answer to our ping (§11.18.1): no response, no CmdSN.
                    if nop.targetTransferTag == outstandingPing?.tag { outstandingPing = nil }
                } else {
                    order(.nop(nop), cmdSN: nop.cmdSN, immediate: nop.immediate, session: &session)
                }
            case .textRequest(let text): order(.text(text), cmdSN: text.cmdSN, immediate: text.immediate, session: &session)
            case .logoutRequest(let logout): order(.logout(logout), cmdSN: logout.cmdSN, immediate: logout.immediate, session: &session)
            case .taskManagementRequest(let request):
                order(.taskManagement(request), cmdSN: request.cmdSN, immediate: request.immediate, session: &session)
            case .snackRequest(let snack):
                // SNACK needs ErrorRecoveryLevel > 0, which we never negotiate (§11.16).
                sendReject(.protocolError, header: snack.encodedHeader(), session: &session)
            case .loginRequest(let login):
                sendReject(.protocolError, header: login.encodedHeader(), session: &session)
            default:
                // A target opcode sent to a target (§11.17.1: command not supported).
                sendReject(.commandNotSupported, header: pdu.message.encodedHeader(), session: &session)
            }
            if case .fullFeature = phase { phase = .fullFeature(session) }
        }
    }

    /// Runs a PDU through the CmdSN window, then everything it unblocked.
    private func order(_ item: Ordered, cmdSN: SequenceNumber, immediate: Bool, session: inout Session) {
        switch session.window.receive(item, cmdSN: cmdSN, immediate: immediate) {
        case .outOfWindow:
            logger.debug("dropping PDU outside the CmdSN window", metadata: ["cmdSN": "\(cmdSN)", "expCmdSN": "\(session.window.expCmdSN)"])
        case .queued:
            break
        case .deliver(let item, let unblocked):
            deliver(item, session: &session)
            for item in unblocked { deliver(item, session: &session) }
        }
    }

    private func deliver(_ item: Ordered, session: inout Session) {
        switch item {
        case .scsi(let tag):
            guard let task = session.tasks[tag] else { return }  // aborted while waiting
            task.delivered = true
            startIfReady(task, session: &session)
        case .nop(let nop):
            var reply = NOPIn()
            reply.lun = nop.lun
            reply.initiatorTaskTag = nop.initiatorTaskTag
            reply.data = nop.data
            reply.sequence = nextStatus(&session)
            send(.nopIn(reply))
        case .text(let text): answerText(text, session: &session)
        case .logout(let logout): answerLogout(logout, session: &session)
        case .taskManagement(let request): answerTaskManagement(request, session: &session)
        }
    }

    // MARK: - Login

    private func perform(_ action: TargetLoginStateMachine.Action) {
        switch action {
        case .sendResponse(let response):
            send(.loginResponse(response))
        case .failAndClose(let response, let reason):
            logger.notice("login failed: \(reason)", metadata: ["status": "\(response.status)"])
            send(.loginResponse(response))
            close()
        case .complete(var response, let result):
            enterFullFeaturePhase(&response, result)
        }
    }

    private func enterFullFeaturePhase(_ response: inout LoginResponse, _ result: LoginResult) {
        guard let context else { return }
        if result.requestedTSIH != .new {
            // Adding a connection to a session needs MC/S, which we do not offer (MaxConnections=1).
            response.status = services.sessions.contains(result.requestedTSIH) ? .tooManyConnections : .sessionDoesNotExist
            response.transit = false
            logger.notice("login to existing session \(result.requestedTSIH) refused")
            send(.loginResponse(response))
            close()
            return
        }
        let target = result.targetName.flatMap { name in services.targets.first { $0.name == name } }
        let key = SessionTable.Key(initiatorName: result.initiatorName, isid: result.isid, targetName: result.targetName ?? "")
        let channel = context.channel
        let tsih = services.sessions.open(key: key, peer: "\(channel.remoteAddress?.description ?? "?")", portal: portal.description) {
            channel.close(promise: nil)
        }
        response.tsih = tsih
        send(.loginResponse(response))
        context.flush()

        // The new digests and segment limit apply from the next PDU (ARCHITECTURE.md §5).
        framing.headerDigest = result.parameters.headerDigest
        framing.dataDigest = result.parameters.dataDigest
        framing.maxReceiveDataSegmentLength = max(result.parameters.localMaxRecvDataSegmentLength, ISCSIFramingSettings.loginMaxDataSegmentLength)

        var nexus: ITNexus?
        if let target {
            let tag = target.portalGroup(containing: portal)?.tag ?? 1
            let itNexus = ITNexus(initiatorPortName: result.initiatorPortName, relativeTargetPortIdentifier: tag, targetPortGroup: tag)
            target.device.nexusLogin(itNexus)
            nexus = itNexus
        }
        registration = (tsih, target, nexus)
        phase = .fullFeature(Session(
            login: result, tsih: tsih, target: target, nexus: nexus,
            window: CommandWindow(expCmdSN: result.expectedCmdSN, depth: services.commandWindow),
            statSN: result.nextStatSN
        ))
        logger[metadataKey: "initiator"] = "\(result.initiatorName)"
        logger.info("login complete", metadata: [
            "type": "\(result.sessionType.rawValue)", "target": "\(result.targetName ?? "-")", "tsih": "\(tsih)",
            "headerDigest": "\(result.parameters.headerDigest)", "dataDigest": "\(result.parameters.dataDigest)",
        ])
        startPinging(context)
    }

    // MARK: - SCSI commands and data

    private func receiveCommand(_ command: SCSICommandRequest, session: inout Session) {
        guard session.login.sessionType == .normal, session.target != nil else {
            // Discovery sessions carry only Text and Logout (RFC 7143 §4.3).
            sendReject(.protocolError, header: command.encodedHeader(), session: &session)
            return
        }
        guard session.tasks[command.initiatorTaskTag] == nil else {
            sendReject(.taskInProgress, header: command.encodedHeader(), session: &session)
            return
        }
        let parameters = session.parameters
        let immediateLength = UInt32(command.data.readableBytes)
        guard immediateLength == 0 || (command.isWrite && parameters.immediateData && immediateLength <= min(command.expectedDataTransferLength, UInt32(parameters.firstBurstLength))) else {
            // Immediate data without W, when not negotiated, or beyond the limits (§13.11, §13.14).
            sendReject(.protocolError, header: command.encodedHeader(), session: &session)
            return
        }
        // Out-of-window commands are dropped before they take any resources.
        let window = session.window
        guard command.immediate || (window.expCmdSN.precedesOrEquals(command.cmdSN) && command.cmdSN.precedesOrEquals(window.maxCmdSN)) else {
            logger.debug("dropping command outside the CmdSN window", metadata: ["cmdSN": "\(command.cmdSN)"])
            return
        }
        let task = Task(command: command)
        if command.isWrite, command.expectedDataTransferLength > 0 {
            task.dataOut.append(command.data)
            task.transfer = WriteTransfer(
                expectedLength: command.expectedDataTransferLength,
                immediateLength: immediateLength,
                unsolicitedExpected: !parameters.initialR2T && !command.isFinal,
                firstBurstLength: UInt32(parameters.firstBurstLength),
                maxBurstLength: UInt32(parameters.maxBurstLength),
                maxOutstandingR2T: parameters.maxOutstandingR2T
            )
        }
        session.tasks[command.initiatorTaskTag] = task
        sendReadyToTransfer(task, session: &session)
        order(.scsi(command.initiatorTaskTag), cmdSN: command.cmdSN, immediate: command.immediate, session: &session)
    }

    private func receiveDataOut(_ dataOut: DataOut, session: inout Session) {
        let tag = dataOut.initiatorTaskTag
        guard let task = session.tasks[tag], var transfer = task.transfer, !task.executing else {
            // Data for a task we aborted or never had: ignore it (§11.7, ERL 0).
            logger.debug("ignoring Data-Out for unknown task \(tag)")
            return
        }
        do {
            try transfer.accept(dataOut)
        } catch {
            logger.notice("bad Data-Out: \(error)")
            sendReject(.protocolError, header: dataOut.encodedHeader(), session: &session)
            return
        }
        task.dataOut.append(dataOut.data)
        task.transfer = transfer
        sendReadyToTransfer(task, session: &session)
        startIfReady(task, session: &session)
    }

    /// Issues whatever R2Ts the task's transfer allows now (§11.8). The task is in
    /// `session.tasks` (callers pass it to spare a lookup per PDU).
    private func sendReadyToTransfer(_ task: Task, session: inout Session) {
        guard var transfer = task.transfer else { return }
        let requests = transfer.nextRequests { makeTransferTag() }
        task.transfer = transfer
        task.r2tCount += UInt32(requests.count)
        for request in requests {
            var r2t = ReadyToTransfer()
            r2t.lun = task.command.lun
            r2t.initiatorTaskTag = task.command.initiatorTaskTag
            r2t.targetTransferTag = request.targetTransferTag
            r2t.sequence = currentStatus(session)
            r2t.r2tSN = request.r2tSN
            r2t.bufferOffset = request.bufferOffset
            r2t.desiredDataTransferLength = request.desiredLength
            send(r2t)
        }
    }

    /// Hands a task to the device server once it is in order and its data is complete.
    /// The task is in `session.tasks`.
    private func startIfReady(_ task: Task, session: inout Session) {
        guard task.delivered, !task.executing, task.transfer?.isComplete ?? true,
            let device = session.device, let nexus = session.nexus, let context
        else { return }
        let tag = task.command.initiatorTaskTag
        task.executing = true
        let command = SCSICommand(
            cdb: task.command.cdb, lun: task.command.lun, dataOutSegments: task.dataOut.take(),
            expectedDataTransferLength: task.command.expectedDataTransferLength, nexus: nexus
        )
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let faults = services.faults.faults(on: portal)
        let delay = faults.latencyMilliseconds.map { TimeAmount.milliseconds(Int64($0)) }
        if let sense = faults.failWithSense {
            let result = SCSICommandResult(status: .checkCondition, sense: sense.fixedFormatSense)
            eventLoop.scheduleTask(in: delay ?? .zero) { handler.value.complete(tag, result) }
            return
        }
        // Started at once on this thread (SE-0472): a command whose backend does not
        // suspend (the RAM disk, a tmpfs file) completes and answers inside this call,
        // without a job on the loop's queue; one that suspends resumes on the loop's
        // executor. The closure is written here, not stored first, so no reabstraction
        // thunk (an async frame each) stands between the task and the command.
        _Concurrency.Task.immediate(executorPreference: loopTaskExecutor(eventLoop)) {
            let result = await device.execute(command)
            if let delay {
                eventLoop.scheduleTask(in: delay) { handler.value.complete(tag, result) }
            } else if eventLoop.inEventLoop {
                handler.value.complete(tag, result)
            } else {
                eventLoop.execute { handler.value.complete(tag, result) }
            }
        }
    }

    private func loopTaskExecutor(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        if let taskExecutor { return taskExecutor }
        let executor = EventLoopTaskExecutor(eventLoop)
        taskExecutor = executor
        return executor
    }

    /// Sends Data-In and status for a finished task (§11.4, §11.7).
    private func complete(_ tag: InitiatorTaskTag, _ result: SCSICommandResult) {
        guard case .fullFeature(var session) = phase, let task = session.tasks.removeValue(forKey: tag) else {
            return  // aborted, or the connection is gone
        }
        let expected = task.command.expectedDataTransferLength
        var dataIn = result.dataIn ?? ByteBuffer()
        let produced: Int
        if let used = result.dataOutLengthUsed, task.command.isWrite {
            produced = used
        } else {
            produced = dataIn.readableBytes
            // Never send more than the initiator allocated (§11.4.5.1 overflow).
            if dataIn.readableBytes > Int(expected) { dataIn.moveWriterIndex(to: dataIn.readerIndex + Int(expected)) }
            if !task.command.isRead { dataIn.clear() }
        }
        let residual: Residual =
            produced > Int(expected) ? .overflow(UInt32(produced) - expected)
            : produced < Int(expected) ? .underflow(expected - UInt32(produced)) : .none

        let collapse = result.status == .good && result.sense == nil && dataIn.readableBytes > 0
        var dataSN: UInt32 = 0
        if dataIn.readableBytes > 0 {
            let segment = session.parameters.peerMaxRecvDataSegmentLength
            let burst = session.parameters.maxBurstLength
            var offset = 0
            while dataIn.readableBytes > 0 {
                let length = min(segment, dataIn.readableBytes, burst - offset % burst)
                var pdu = DataIn()
                pdu.lun = task.command.lun
                pdu.initiatorTaskTag = tag
                pdu.dataSN = SequenceNumber(dataSN)
                pdu.bufferOffset = UInt32(offset)
                pdu.data = dataIn.readSlice(length: length)!
                offset += length
                dataSN += 1
                let last = dataIn.readableBytes == 0
                pdu.isFinal = last || offset % burst == 0
                if last && collapse {
                    pdu.status = result.status.rawValue
                    pdu.residual = residual
                    pdu.sequence = nextStatus(&session)
                } else {
                    pdu.sequence = currentStatus(session)
                }
                send(pdu)
            }
        }
        if !collapse {
            var response = SCSIResponse()
            response.status = result.status.rawValue
            response.sense = result.sense ?? []
            response.residual = residual
            response.initiatorTaskTag = tag
            response.expDataSN = SequenceNumber(task.command.isRead ? dataSN : task.r2tCount)
            response.sequence = nextStatus(&session)
            send(response)
        }
        phase = .fullFeature(session)
        scheduleFlush()
    }

    /// Flushes once after every completion already queued on the loop has written its
    /// PDUs, so the responses of a read batch leave in one write, not one each.
    private func scheduleFlush() {
        guard !flushPending, !inReadBatch, let context else { return }
        flushPending = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushPending = false
            handler.value.context?.flush()
        }
    }

    // MARK: - Text, Logout, TMF

    private func answerText(_ request: TextRequest, session: inout Session) {
        var chunk: [UInt8]
        if request.targetTransferTag != .reserved {
            // A continuation request for the rest of a long answer (§11.10.4).
            guard let pending = session.pendingText, pending.tag == request.targetTransferTag,
                pending.initiatorTaskTag == request.initiatorTaskTag
            else {
                sendReject(.invalidPDUField, header: request.encodedHeader(), session: &session)
                return
            }
            chunk = pending.rest
        } else {
            let offered: TextParameters
            do {
                offered = try TextParameters(decoding: request.data.getBytes(at: request.data.readerIndex, length: request.data.readableBytes) ?? [])
            } catch {
                sendReject(.protocolError, header: request.encodedHeader(), session: &session)
                return
            }
            var answer = TextParameters()
            for (key, value) in offered.pairs {
                if key == "SendTargets" {
                    let targets = services.sendTargets(
                        selector: value, initiatorName: session.login.initiatorName, sessionTarget: session.login.targetName,
                        localAddress: context?.channel.localAddress)
                    for pair in targets.pairs { answer.append(pair.key, pair.value) }
                } else {
                    // Renegotiation in Full Feature Phase is not supported beyond declarations.
                    answer.append(key, NegotiationKey.table[key] == nil ? "NotUnderstood" : "Reject")
                }
            }
            chunk = answer.encoded
        }
        let limit = session.parameters.peerMaxRecvDataSegmentLength
        var response = TextResponse()
        response.lun = request.lun
        response.initiatorTaskTag = request.initiatorTaskTag
        if chunk.count > limit {
            let tag = makeTransferTag()
            session.pendingText = (tag, request.initiatorTaskTag, Array(chunk[limit...]))
            chunk = Array(chunk[..<limit])
            response.isFinal = false
            response.continue = true
            response.targetTransferTag = tag
        } else {
            session.pendingText = nil
        }
        response.data = ByteBuffer(bytes: chunk)
        response.sequence = nextStatus(&session)
        send(.textResponse(response))
    }

    private func answerLogout(_ request: LogoutRequest, session: inout Session) {
        var response = LogoutResponse()
        response.initiatorTaskTag = request.initiatorTaskTag
        switch LogoutReason(rawValue: request.reasonCode) {
        case .closeSession, .closeConnection:
            response.response = request.reasonCode == LogoutReason.closeConnection.rawValue && request.connectionID != session.login.connectionID ? .cidNotFound : .success
        case .removeConnectionForRecovery:
            response.response = .recoveryNotSupported
        case nil:
            sendReject(.invalidPDUField, header: request.encodedHeader(), session: &session)
            return
        }
        response.sequence = nextStatus(&session)
        if response.response == .success {
            logger.info("logout", metadata: ["reason": "\(request.reasonCode)"])
            sendAndClose(.logoutResponse(response))
        } else {
            send(.logoutResponse(response))
        }
    }

    private func answerTaskManagement(_ request: TaskManagementRequest, session: inout Session) {
        var response = TaskManagementResponse()
        response.initiatorTaskTag = request.initiatorTaskTag
        let finish: (TaskManagementResponseCode, inout Session) -> Void = { code, session in
            response.response = code
            response.sequence = self.nextStatus(&session)
            self.send(.taskManagementResponse(response))
        }
        guard let function = TaskManagementFunctionCode(rawValue: request.function), let target = session.target, let nexus = session.nexus else {
            finish(session.target == nil ? .functionRejected : .functionNotSupported, &session)
            return
        }
        let engineFunction: TaskManagementFunction
        switch function {
        case .abortTask:
            // §11.5.1: a task that never arrived but whose RefCmdSN is in the window
            // counts as received and aborted.
            if session.tasks.removeValue(forKey: request.referencedTaskTag) != nil {
                finish(.functionComplete, &session)
            } else if session.window.expCmdSN.precedesOrEquals(request.refCmdSN), request.refCmdSN.precedes(request.cmdSN) || request.immediate {
                finish(.functionComplete, &session)
            } else {
                finish(.taskDoesNotExist, &session)
            }
            return
        case .clearACA, .taskReassign:
            finish(function == .taskReassign ? .taskAllegianceReassignmentNotSupported : .functionNotSupported, &session)
            return
        case .abortTaskSet: engineFunction = .abortTaskSet
        case .clearTaskSet: engineFunction = .clearTaskSet
        case .logicalUnitReset: engineFunction = .logicalUnitReset
        case .targetWarmReset: engineFunction = .targetWarmReset
        case .targetColdReset: engineFunction = .targetColdReset
        }
        // The aborted tasks of this session end here: their results will be dropped.
        let lunScoped = engineFunction != .targetWarmReset && engineFunction != .targetColdReset
        session.tasks = session.tasks.filter { lunScoped && $0.value.command.lun != request.lun }
        guard let context else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let lun = request.lun
        let pending = response
        _Concurrency.Task {
            let outcome = await target.device.taskManagement(engineFunction, lun: lun, nexus: nexus)
            eventLoop.execute { handler.value.finishTaskManagement(pending, outcome: outcome, closeAfter: engineFunction == .targetColdReset) }
        }
    }

    private func finishTaskManagement(_ response: TaskManagementResponse, outcome: TaskManagementOutcome, closeAfter: Bool) {
        guard case .fullFeature(var session) = phase else { return }
        var response = response
        response.response = switch outcome {
        case .functionComplete: .functionComplete
        case .logicalUnitDoesNotExist: .lunDoesNotExist
        case .functionRejected: .functionRejected
        }
        response.sequence = nextStatus(&session)
        phase = .fullFeature(session)
        if closeAfter {
            sendAndClose(.taskManagementResponse(response))
        } else {
            send(.taskManagementResponse(response))
            context?.flush()
        }
    }

    // MARK: - Sequence numbers and sending

    /// StatSN for a response that consumes one, with the current window (§4.2.2.2).
    private func nextStatus(_ session: inout Session) -> StatusSequence {
        defer { session.statSN = session.statSN.advanced(by: 1) }
        return currentStatus(session)
    }

    /// The window without consuming a StatSN (R2T, Data-In without status, pings).
    private func currentStatus(_ session: Session) -> StatusSequence {
        StatusSequence(statSN: session.statSN, expCmdSN: session.window.expCmdSN, maxCmdSN: session.window.maxCmdSN)
    }

    private func sendReject(_ reason: ISCSIRejectReason, header: BasicHeaderSegment, session: inout Session) {
        var reject = Reject(reason: reason, rejectedHeader: header)
        reject.sequence = nextStatus(&session)
        send(.reject(reject))
    }

    private func sendReject(_ reason: ISCSIRejectReason, header: BasicHeaderSegment) {
        guard case .fullFeature(var session) = phase else { return }
        sendReject(reason, header: header, session: &session)
        phase = .fullFeature(session)
    }

    private func send(_ pdu: ISCSIPDU, promise: EventLoopPromise<Void>? = nil) {
        send(pdu.message, promise: promise)
    }

    /// Encodes and writes one PDU (the caller flushes). Generic, so the per-command
    /// Data-In and SCSI Response are not boxed in an existential on the way.
    private func send<Message: ISCSIPDUMessage>(_ message: Message, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        ISCSIPDUEncoder.write(message, settings: framing, context: context, promise: promise)
    }

    private func makeTransferTag() -> TargetTransferTag {
        defer { nextTransferTag = nextTransferTag == 0xFFFF_FFFE ? 1 : nextTransferTag + 1 }
        return TargetTransferTag(nextTransferTag)
    }

    private func close() {
        phase = .closing
        context?.flush()
        context?.close(promise: nil)
    }

    /// Sends a last PDU and closes once it is on the wire (Logout, TARGET COLD RESET).
    private func sendAndClose(_ pdu: ISCSIPDU) {
        guard let context else { return }
        phase = .closing
        let channel = context.channel
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        send(pdu, promise: written)
        context.flush()
    }

    // MARK: - NOP-In pings (§11.19)

    private func startPinging(_ context: ChannelHandlerContext) {
        guard let interval = services.nopInInterval else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        pingTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            handler.value.pingIfIdle(interval: interval)
        }
    }

    private func pingIfIdle(interval: TimeAmount) {
        guard case .fullFeature(let session) = phase else { return }
        let now = NIODeadline.now()
        if let ping = outstandingPing {
            if now > ping.deadline {
                logger.warning("initiator did not answer NOP-In within \(services.nopInTimeout); dropping the connection")
                close()
            }
            return
        }
        guard now - lastHeard >= interval else { return }
        var nop = NOPIn()
        nop.targetTransferTag = makeTransferTag()
        nop.sequence = currentStatus(session)
        outstandingPing = (nop.targetTransferTag, now + services.nopInTimeout)
        send(nop)
        context?.flush()
    }
}

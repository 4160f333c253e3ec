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
        /// Its Swift task in the device server, cancelled when the task is aborted
        /// (nil once it is back, or when it never suspended).
        var execution: _Concurrency.Task<Void, Never>?
        /// Aborted while in the device server: its result is dropped when it leaves.
        var aborted = false
        /// Delivered, but held back by an ORDERED task (see `Session.heldByOrdered`).
        var held = false
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
        /// The login is complete but reinstates a session whose tasks are still in the
        /// device server: its last response waits until they have left (§6.3.5).
        case awaitingReinstatement
        case fullFeature(Session)
        case closing
    }

    /// A task management function that waits for the tasks it aborted to leave the
    /// device server before it is answered (SAM-5 §7, RFC 7143 §11.6.2).
    private final class PendingTaskManagement {
        var response: TaskManagementResponse
        /// Aborted tasks still in the device server.
        var awaiting: Set<InitiatorTaskTag>
        /// What the device server answered; nil while it is still at work.
        var outcome: TaskManagementResponseCode?
        /// TARGET COLD RESET closes the connection once answered (§11.5.1).
        let closeAfter: Bool

        init(response: TaskManagementResponse, awaiting: Set<InitiatorTaskTag>, outcome: TaskManagementResponseCode?, closeAfter: Bool) {
            self.response = response
            self.awaiting = awaiting
            self.outcome = outcome
            self.closeAfter = closeAfter
        }
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
        /// Task management functions waiting for their aborted tasks, in arrival order.
        var pendingTaskManagement: [PendingTaskManagement] = []
        /// Delivered tasks, in CmdSN order, that may not reach the device server yet:
        /// ORDERED tasks whose logical unit still has earlier tasks of this session
        /// waiting for data, and the tasks of that unit after them (SAM-5 §8.6.3). The
        /// device server orders what it has been handed; this keeps the hand-over in
        /// order. Empty unless ORDERED tasks are used.
        var heldByOrdered: [Task] = []
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
    /// connection has ended, whatever phase it ends in (logout, reset, error), and its
    /// tasks have left the device server.
    private var registration: (tsih: TSIH, target: ExportedTarget?, nexus: ITNexus?)?
    private let drain = SessionDrain()
    /// Tasks handed to the device server and not yet back, whatever the phase.
    private var tasksInDeviceServer = 0
    /// Sessions this login reinstates that still have tasks in the device server.
    private var reinstatedStillDraining = 0

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
        enterClosing()
        frames.reset()
        logger.info("connection ended", metadata: ["inDeviceServer": "\(tasksInDeviceServer)"])
        endSessionIfDrained()
        context.fireChannelInactive()
    }

    /// At ERL 0 the session's tasks end with its connection (§7.1.4): those in the
    /// device server are cancelled, and the session is gone only once they are out.
    private func enterClosing() {
        if case .fullFeature(let session) = phase {
            for task in session.tasks.values { task.execution?.cancel() }
        }
        phase = .closing
    }

    /// Once the connection has ended and no task is left in the device server: the I_T
    /// nexus is lost (SAM-5 §6.3.4) and the session leaves the table, which lets a
    /// login that reinstates it complete.
    private func endSessionIfDrained() {
        guard case .closing = phase, tasksInDeviceServer == 0 else { return }
        if let registration {
            if let target = registration.target, let nexus = registration.nexus { target.device.nexusLogout(nexus) }
            services.sessions.close(registration.tsih, drain: drain)
            logger.info("session ended", metadata: ["tsih": "\(registration.tsih)"])
            self.registration = nil
        }
        drain.markDrained()
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
        case .closing, .awaitingReinstatement:
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
            let lun = task.command.lun
            if task.command.attribute == .headOfQueue {
                // Starts before the dormant tasks (SAM-5 §8.6.4).
            } else if session.heldByOrdered.contains(where: { $0.command.lun == lun })
                || task.command.attribute == .ordered && hasEarlierUnstartedTask(onLUN: lun, session: session, other: task)
            {
                task.held = true
                session.heldByOrdered.append(task)
                return
            }
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
        let (tsih, reinstated) = services.sessions.open(
            key: key, peer: "\(channel.remoteAddress?.description ?? "?")", portal: portal.description, drain: drain
        ) {
            channel.close(promise: nil)
        }
        response.tsih = tsih
        let nexus = target.map { target in
            let tag = target.portalGroup(containing: portal)?.tag ?? 1
            return ITNexus(initiatorPortName: result.initiatorPortName, relativeTargetPortIdentifier: tag, targetPortGroup: tag)
        }
        registration = (tsih, target, nexus)
        guard !reinstated.isEmpty else {
            startFullFeaturePhase(response, result, target: target, nexus: nexus)
            return
        }
        // Reinstatement (§6.3.5): the old session's tasks must have left the device
        // server before the new session may act for the same initiator port.
        phase = .awaitingReinstatement
        logger.info("reinstating session: waiting for the old session's tasks", metadata: ["tsih": "\(tsih)"])
        reinstatedStillDraining = reinstated.count
        let response = response
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        for old in reinstated {
            old.whenDrained {
                eventLoop.execute {
                    handler.value.reinstatedStillDraining -= 1
                    guard handler.value.reinstatedStillDraining == 0, case .awaitingReinstatement = handler.value.phase else { return }
                    handler.value.startFullFeaturePhase(response, result, target: target, nexus: nexus)
                }
            }
        }
    }

    private func startFullFeaturePhase(_ response: LoginResponse, _ result: LoginResult, target: ExportedTarget?, nexus: ITNexus?) {
        guard let context, let tsih = registration?.tsih else { return }
        send(.loginResponse(response))
        context.flush()

        // The new digests and segment limit apply from the next PDU (ARCHITECTURE.md §5).
        framing.headerDigest = result.parameters.headerDigest
        framing.dataDigest = result.parameters.dataDigest
        framing.maxReceiveDataSegmentLength = max(result.parameters.localMaxRecvDataSegmentLength, ISCSIFramingSettings.loginMaxDataSegmentLength)

        if let target, let nexus { target.device.nexusLogin(nexus) }
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
        guard !task.held else {
            releaseHeldTasks(session: &session)
            return
        }
        guard task.delivered, !task.executing, task.transfer?.isComplete ?? true,
            let device = session.device, let nexus = session.nexus, let context
        else { return }
        let tag = task.command.initiatorTaskTag
        task.executing = true
        tasksInDeviceServer += 1
        let command = SCSICommand(
            cdb: task.command.cdb, lun: task.command.lun, dataOutSegments: task.dataOut.take(),
            expectedDataTransferLength: task.command.expectedDataTransferLength, nexus: nexus,
            taskAttribute: Self.taskAttributes[Int(task.command.attribute.rawValue)]
        )
        defer { if !session.heldByOrdered.isEmpty { releaseHeldTasks(session: &session) } }
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
        let execution = _Concurrency.Task.immediate(executorPreference: loopTaskExecutor(eventLoop)) {
            let result = await device.execute(command)
            if let delay {
                eventLoop.scheduleTask(in: delay) { handler.value.complete(tag, result) }
            } else if eventLoop.inEventLoop {
                handler.value.complete(tag, result)
            } else {
                eventLoop.execute { handler.value.complete(tag, result) }
            }
        }
        // Kept only while the task is out: one that completed inside the call is back.
        if task.executing { task.execution = execution }
    }

    /// The SAM-5 task attribute of each iSCSI ATTR value (RFC 7143 §11.3.1): untagged
    /// runs as SIMPLE.
    private static let taskAttributes: [SCSITaskAttribute] = [.simple, .simple, .ordered, .headOfQueue, .aca]

    /// Whether a task of this session on `lun`, delivered before `other` and not held,
    /// has still not reached the device server (it waits for its data).
    private func hasEarlierUnstartedTask(onLUN lun: UInt64, session: Session, other: Task) -> Bool {
        session.tasks.values.contains { $0 !== other && $0.command.lun == lun && $0.delivered && !$0.executing && !$0.held }
    }

    /// Hands over, in order, the held tasks that may now go: an ORDERED task once no
    /// earlier task of its unit is left waiting and its own data is in, then the tasks
    /// of that unit after it, up to the next ORDERED task that must wait.
    private func releaseHeldTasks(session: inout Session) {
        var blocked: Set<UInt64> = []
        var index = 0
        while index < session.heldByOrdered.count {
            let task = session.heldByOrdered[index]
            let lun = task.command.lun
            let mustWait =
                blocked.contains(lun)
                || task.command.attribute == .ordered
                    && (!(task.transfer?.isComplete ?? true) || hasEarlierUnstartedTask(onLUN: lun, session: session, other: task))
            guard !mustWait else {
                blocked.insert(lun)
                index += 1
                continue
            }
            session.heldByOrdered.remove(at: index)
            task.held = false
            startIfReady(task, session: &session)
            index = 0  // starting it may have changed what the others wait for
            blocked = []
        }
    }

    private func loopTaskExecutor(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        if let taskExecutor { return taskExecutor }
        let executor = EventLoopTaskExecutor(eventLoop)
        taskExecutor = executor
        return executor
    }

    /// Sends Data-In and status for a finished task (§11.4, §11.7), unless it was
    /// aborted: then the task management functions waiting for it may be answered.
    private func complete(_ tag: InitiatorTaskTag, _ result: SCSICommandResult) {
        tasksInDeviceServer -= 1
        guard case .fullFeature(var session) = phase, let task = session.tasks.removeValue(forKey: tag) else {
            endSessionIfDrained()  // the connection is gone
            return
        }
        task.executing = false
        task.execution = nil
        if task.aborted {
            answerTaskManagement(afterAbortOf: tag, session: &session)
            return
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

    /// Task management (RFC 7143 §11.5, SAM-5 §7). The affected tasks of this session
    /// that have not reached the device server end at once; those in it are cancelled
    /// (their backend I/O is dropped if it has not started) and the response waits until
    /// each has left, so nothing of an aborted task reaches the medium after it
    /// (§11.6.2). CLEAR TASK SET and the resets also wait, in the device server, for
    /// the other sessions' tasks in the logical unit.
    private func answerTaskManagement(_ request: TaskManagementRequest, session: inout Session) {
        var response = TaskManagementResponse()
        response.initiatorTaskTag = request.initiatorTaskTag
        func answer(_ code: TaskManagementResponseCode, awaiting: Set<InitiatorTaskTag> = [], closeAfter: Bool = false) {
            let pending = PendingTaskManagement(response: response, awaiting: awaiting, outcome: code, closeAfter: closeAfter)
            session.pendingTaskManagement.append(pending)
            sendAnsweredTaskManagement(session: &session)
        }
        guard let function = TaskManagementFunctionCode(rawValue: request.function), let target = session.target, let nexus = session.nexus else {
            answer(session.target == nil ? .functionRejected : .functionNotSupported)
            return
        }
        let engineFunction: TaskManagementFunction
        switch function {
        case .abortTask:
            if session.tasks[request.referencedTaskTag] != nil {
                answer(.functionComplete, awaiting: abort(session: &session) { $0.command.initiatorTaskTag == request.referencedTaskTag })
            } else if session.window.expCmdSN.precedesOrEquals(request.refCmdSN), request.refCmdSN.precedes(request.cmdSN) || request.immediate {
                // §11.5.1: a task that never arrived but whose RefCmdSN is in the window
                // counts as received and aborted.
                answer(.functionComplete)
            } else {
                answer(.taskDoesNotExist)
            }
            return
        case .clearACA, .taskReassign:
            answer(function == .taskReassign ? .taskAllegianceReassignmentNotSupported : .functionNotSupported)
            return
        case .abortTaskSet: engineFunction = .abortTaskSet
        case .clearTaskSet: engineFunction = .clearTaskSet
        case .logicalUnitReset: engineFunction = .logicalUnitReset
        case .targetWarmReset: engineFunction = .targetWarmReset
        case .targetColdReset: engineFunction = .targetColdReset
        }
        let lunScoped = engineFunction != .targetWarmReset && engineFunction != .targetColdReset
        let awaiting = abort(session: &session) { !lunScoped || $0.command.lun == request.lun }
        let pending = PendingTaskManagement(
            response: response, awaiting: awaiting, outcome: nil, closeAfter: engineFunction == .targetColdReset)
        session.pendingTaskManagement.append(pending)
        guard let context else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let waiting = NIOLoopBound(pending, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let lun = request.lun
        _Concurrency.Task {
            let outcome = await target.device.taskManagement(engineFunction, lun: lun, nexus: nexus)
            eventLoop.execute {
                waiting.value.outcome = switch outcome {
                case .functionComplete: .functionComplete
                case .logicalUnitDoesNotExist: .lunDoesNotExist
                case .functionRejected: .functionRejected
                }
                guard case .fullFeature(var session) = handler.value.phase else { return }
                handler.value.sendAnsweredTaskManagement(session: &session)
            }
        }
    }

    /// Aborts this session's tasks that `affected` selects: those not yet in the device
    /// server end now; those in it are cancelled and returned, to be waited for.
    private func abort(session: inout Session, _ affected: (Task) -> Bool) -> Set<InitiatorTaskTag> {
        var inDeviceServer: Set<InitiatorTaskTag> = []
        for (tag, task) in session.tasks where affected(task) {
            if task.executing {
                task.aborted = true
                task.execution?.cancel()
                inDeviceServer.insert(tag)
            } else {
                session.tasks[tag] = nil
                task.held = false
            }
        }
        if !session.heldByOrdered.isEmpty {
            session.heldByOrdered.removeAll { !$0.held }
            releaseHeldTasks(session: &session)
        }
        return inDeviceServer
    }

    /// An aborted task has left the device server.
    private func answerTaskManagement(afterAbortOf tag: InitiatorTaskTag, session: inout Session) {
        for pending in session.pendingTaskManagement { pending.awaiting.remove(tag) }
        sendAnsweredTaskManagement(session: &session)
    }

    /// Sends, in arrival order, the responses of the task management functions that
    /// the device server has answered and whose aborted tasks have all left it.
    private func sendAnsweredTaskManagement(session: inout Session) {
        while let first = session.pendingTaskManagement.first, first.awaiting.isEmpty, let outcome = first.outcome {
            session.pendingTaskManagement.removeFirst()
            var response = first.response
            response.response = outcome
            response.sequence = nextStatus(&session)
            if first.closeAfter {
                sendAndClose(.taskManagementResponse(response))
                return
            }
            send(.taskManagementResponse(response))
        }
        scheduleFlush()
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
        enterClosing()
        context?.flush()
        context?.close(promise: nil)
    }

    /// Sends a last PDU and closes once it is on the wire (Logout, TARGET COLD RESET).
    private func sendAndClose(_ pdu: ISCSIPDU) {
        guard let context else { return }
        enterClosing()
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

import BlockStorage
import ISCSIProtocol
import ISCSISession
import Logging
import NIOCore
import SCSIEngine
import SCSIProtocol

/// One iSCSI connection on the target side: the driver of its
/// `TargetSessionStateMachine` (ARCHITECTURE.md §2).
///
/// The machine decides everything the standard rules (CmdSN order, R2T and Data-Out,
/// Data-In and status, Text, Logout, task management, pings); this handler frames the
/// bytes into PDUs, feeds them in, and performs the actions that come out: it writes
/// PDUs, starts tasks in the device server on the connection's event loop, cancels
/// them, registers the session, and arms the ping timer. Task management that reaches
/// past the session goes to `SessionTable.perform`.
final class TargetConnectionHandler: ChannelInboundHandler {
    /// PDUs are framed here (`frames`) and encoded here (`write`), not by decoder and
    /// encoder handlers in the pipeline: each such handler cost every PDU a boxed
    /// `NIOAny`, a dynamic cast and a pipeline step.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private typealias Action = TargetSessionStateMachine.Action

    private let services: TargetServices
    private let portal: Portal
    private let framing: ISCSIFramingSettings
    private var frames = ISCSIPDUStreamDecoder()
    private var logger: Logger
    private var machine: TargetSessionStateMachine
    private var context: ChannelHandlerContext?
    /// The actions of the event being performed; reused, so an event costs no allocation.
    private var actions: [Action] = []
    private var batch: [Action] = []
    /// Set while actions are performed. What the machine says meanwhile (a task that
    /// completes inside `execute` because its backend did not suspend) is performed
    /// after the rest of the batch, so PDUs leave in the order the machine numbered
    /// them (StatSN).
    private var performing = false
    /// The task being started by `execute` finished inside the call: there is no
    /// handle to keep for it.
    private var finishedInsideExecute = false
    /// The `EventLoopTaskExecutor` of this connection's loop, made on first use.
    private var taskExecutor: EventLoopTaskExecutor?
    /// A flush is queued on the loop (see `scheduleFlush`).
    private var flushPending = false
    /// Between the first channelRead of a read batch and channelReadComplete, which
    /// flushes whatever the batch's commands answered.
    private var inReadBatch = false
    private var lastHeard = NIODeadline.now()
    private var pingTimer: RepeatedTask?
    /// The session this connection registered and its I_T nexus, released when the
    /// machine says the session has ended.
    private var registration: (tsih: TSIH, target: ExportedTarget?, nexus: ITNexus?)?
    /// The device server and nexus of a normal session, set at Full Feature Phase: the
    /// target's, or a `FaultInjectingDeviceServer` around it while this portal has
    /// command faults (the observation keeps it current).
    private var device: (any SCSIDeviceServer)?
    private var nexus: ITNexus?
    private var faultObservation: FaultInjector.Observation?
    private let drain = SessionDrain()
    /// Other sessions' task management functions waiting for this session's part.
    private var abortsByOtherNexuses: [TargetSessionStateMachine.AbortRequestID: @Sendable () -> Void] = [:]
    private var nextAbortRequest: UInt64 = 0

    init(services: TargetServices, portal: Portal, framing: ISCSIFramingSettings, peer: SocketAddress?, localAddress: SocketAddress?) {
        self.services = services
        self.portal = portal
        self.framing = framing
        var logger = services.logger
        logger[metadataKey: "peer"] = "\(peer?.description ?? "?")"
        logger[metadataKey: "portal"] = "\(portal)"
        self.logger = logger
        let login = TargetLoginStateMachine(configuration: services.loginConfiguration(portal: portal, peer: peer)) { count in
            (0..<count).map { _ in UInt8.random(in: 0...255) }
        }
        machine = TargetSessionStateMachine(login: login, configuration: .init(
            commandWindowDepth: services.commandWindow, nopInTimeout: services.nopInTimeout,
            sendTargets: { selector, session in
                services.sendTargets(
                    selector: selector, initiatorName: session.initiatorName, sessionTarget: session.targetName, peer: peer,
                    localAddress: localAddress)
            }
        ))
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
        endFaultObservation()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTimer?.cancel()
        frames.reset()
        logger.info("connection ended", metadata: ["inDeviceServer": "\(machine.tasksInDeviceServer)"])
        machine.connectionClosed(actions: &actions)
        perform()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeConnection(reason: "\(error)")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inReadBatch = true
        var input = unwrapInboundIn(data)
        do {
            while let frame = try frames.next(from: &input, settings: framing) {
                switch consume frame {
                case .pdu(let pdu):
                    machine.receive(consume pdu, actions: &actions)
                case .reject(let reason, let header, let error):
                    machine.receiveUndecodable(header, reason: reason, error: "\(error)", actions: &actions)
                }
                perform()
            }
        } catch {
            // The stream has lost its PDU boundaries (RFC 7143 §6.2): nothing after
            // this can be answered, so the connection goes.
            closeConnection(reason: "\(error)")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Once per read batch rather than per PDU: the clock is read, and everything the
        // batch produced (R2Ts, responses) flushed, once.
        lastHeard = .now()
        inReadBatch = false
        context.flush()
    }

    // MARK: - Performing the machine's actions

    private func perform() {
        guard !performing else { return }
        performing = true
        while !actions.isEmpty {
            // What performing an action makes the machine say goes into `actions`,
            // for the next round.
            swap(&actions, &batch)
            // Taken out from the end, so each action is moved out of the array, not copied.
            batch.reverse()
            while let action = batch.popLast() { perform(action) }
        }
        performing = false
    }

    private func perform(_ action: consuming Action) {
        switch consume action {
        case .send(let pdu):
            write(pdu)
        case .execute(let execution):
            execute(execution)
        case .sendAndClose(let pdu):
            guard let context else { return }
            let channel = context.channel
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            write(pdu, promise: written)
            context.flush()
        case .close(let reason):
            logger.notice("closing connection: \(reason)")
            context?.flush()
            context?.close(promise: nil)
        case .log(let level, let message):
            logger.log(level: Self.loggerLevel(level), "\(message)")
        case .cancel(let execution):
            execution.cancel()
        case .runTaskManagement(let id, let function, let lun):
            runTaskManagement(id, function, lun: lun)
        case .openSession(let result):
            openSession(result)
        case .startFullFeaturePhase(let result):
            startFullFeaturePhase(result)
        case .abortByAnotherNexusConcluded(let request):
            abortsByOtherNexuses.removeValue(forKey: request)?()
        case .endSession:
            endSession()
        }
    }

    private static func loggerLevel(_ level: TargetSessionStateMachine.LogLevel) -> Logger.Level {
        switch level {
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        }
    }

    /// Feeds an event that arrives outside a read batch, performs what it produced
    /// and flushes (a task's end, a TMF outcome, the ping timer, the session table).
    private func handle(_ event: (inout TargetSessionStateMachine, inout [Action]) -> Void) {
        event(&machine, &actions)
        perform()
        scheduleFlush()
    }

    private func closeConnection(reason: String) {
        actions.append(.close(reason: reason))
        machine.connectionClosed(actions: &actions)
        perform()
    }

    // MARK: - Session registration (RFC 7143 §6.3.5)

    private func openSession(_ result: LoginResult) {
        guard let context else { return }
        guard result.requestedTSIH == .new else {
            machine.sessionRefused(sessionExists: services.sessions.contains(result.requestedTSIH), actions: &actions)
            return
        }
        let target = result.targetName.flatMap { name in services.targets.first { $0.name == name } }
        let key = SessionTable.Key(initiatorName: result.initiatorName, isid: result.isid, targetName: result.targetName ?? "")
        let channel = context.channel
        let eventLoop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let nexus = target.map { target in
            let tag = target.portalGroup(containing: portal)?.tag ?? 1
            return ITNexus(initiatorPortName: result.initiatorPortName, relativeTargetPortIdentifier: tag, targetPortGroup: tag)
        }
        let (tsih, reinstated) = services.sessions.open(
            key: key, peer: "\(channel.remoteAddress?.description ?? "?")", portal: portal.description, nexus: nexus, drain: drain,
            abortTasks: { lun, done in
                eventLoop.execute { handler.value.abortForAnotherNexus(lun: lun, done: done) }
            }
        ) {
            channel.close(promise: nil)
        }
        registration = (tsih, target, nexus)
        machine.sessionOpened(tsih: tsih, hasTarget: target != nil, reinstating: !reinstated.isEmpty, actions: &actions)
        guard !reinstated.isEmpty else { return }
        // The old sessions' tasks must have left the device server before the new
        // session may act for the same initiator port.
        SessionDrain.whenAllDrained(reinstated) {
            eventLoop.execute { handler.value.handle { $0.reinstatedSessionsDrained(actions: &$1) } }
        }
    }

    /// Another session's CLEAR TASK SET or reset ends this session's tasks; `done` once
    /// they are out and their TASK ABORTED responses acknowledged.
    private func abortForAnotherNexus(lun: UInt64?, done: @escaping @Sendable () -> Void) {
        let request = TargetSessionStateMachine.AbortRequestID(nextAbortRequest)
        nextAbortRequest += 1
        abortsByOtherNexuses[request] = done
        handle { $0.tasksAbortedByAnotherNexus(lun: lun, request: request, actions: &$1) }
    }

    private func startFullFeaturePhase(_ result: LoginResult) {
        guard let context, let registration else { return }
        context.flush()
        // The new digests and segment limit apply from the next PDU (ARCHITECTURE.md §5).
        framing.headerDigest = result.parameters.headerDigest
        framing.dataDigest = result.parameters.dataDigest
        framing.maxReceiveDataSegmentLength = max(result.parameters.localMaxRecvDataSegmentLength, ISCSIFramingSettings.loginMaxDataSegmentLength)
        if let target = registration.target, let nexus = registration.nexus {
            target.device.nexusLogin(nexus)
            self.nexus = nexus
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let (observation, faults) = services.faults.observe(portal) { faults in
                eventLoop.execute { handler.value.injectFaults(faults, into: target) }
            }
            faultObservation = observation
            injectFaults(faults, into: target)
        }
        logger[metadataKey: "initiator"] = "\(result.initiatorName)"
        logger.info("login complete", metadata: [
            "type": "\(result.sessionType.rawValue)", "target": "\(result.targetName ?? "-")", "tsih": "\(registration.tsih)",
            "headerDigest": "\(result.parameters.headerDigest)", "dataDigest": "\(result.parameters.dataDigest)",
        ])
        startPinging(context)
    }

    /// No task of the session is left in the device server and its connection is
    /// gone: the I_T nexus is lost (SAM-5 §6.3.4) and the session leaves the table,
    /// which lets a login that reinstates it complete.
    private func endSession() {
        if let registration {
            if let target = registration.target, let nexus = registration.nexus { target.device.nexusLogout(nexus) }
            services.sessions.close(registration.tsih, drain: drain)
            endFaultObservation()
            logger.info("session ended", metadata: ["tsih": "\(registration.tsih)"])
            self.registration = nil
        }
        drain.markDrained()
    }

    // MARK: - The device server

    /// Starts a task in the device server. It starts at once on this thread
    /// (SE-0472): a command whose backend does not suspend (the RAM disk, a tmpfs file)
    /// completes inside this call, without a job on the loop's queue; one that suspends
    /// resumes on the loop's executor.
    private func execute(_ execution: consuming TargetSessionStateMachine.TaskExecution) {
        let tag = execution.initiatorTaskTag
        guard let device, let nexus, let context else {
            // The machine only executes in a Full Feature Phase with a target; should
            // that ever not hold, the task still ends, so the session can drain.
            finished(tag, SCSICommandResult(status: .checkCondition, sense: SenseData(.internalTargetFailure).fixedFormat))
            return
        }
        let command = SCSICommand(
            cdb: execution.cdb, lun: execution.lun, dataOutSegments: execution.dataOut,
            expectedDataTransferLength: execution.expectedDataTransferLength, nexus: nexus,
            taskAttribute: Self.taskAttributes[Int(execution.attribute.rawValue)]
        )
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        finishedInsideExecute = false
        // The closure is written here, not stored first, so no reabstraction thunk (an
        // async frame each) stands between the task and the command.
        let task = _Concurrency.Task.immediate(executorPreference: loopTaskExecutor(eventLoop)) {
            let result = await device.execute(command)
            if eventLoop.inEventLoop {
                handler.value.finished(tag, result)
            } else {
                eventLoop.execute { handler.value.finished(tag, result) }
            }
        }
        if !finishedInsideExecute { machine.taskStarted(tag, execution: task) }
    }

    /// The device server this connection's commands go to while `faults` are in force.
    private func injectFaults(_ faults: PortalFaults, into target: ExportedTarget) {
        device = FaultInjectingDeviceServer(wrapping: target.device, faults: faults) ?? target.device
    }

    private func endFaultObservation() {
        if let faultObservation { services.faults.endObservation(faultObservation) }
        faultObservation = nil
    }

    private func finished(_ tag: InitiatorTaskTag, _ result: consuming SCSICommandResult) {
        if performing {
            finishedInsideExecute = true
            machine.taskFinished(tag, result, actions: &actions)
        } else {
            // As `handle` does, without a closure (the result moves into the machine).
            machine.taskFinished(tag, result, actions: &actions)
            perform()
            scheduleFlush()
        }
    }

    /// The SAM-5 task attribute of each iSCSI ATTR value (RFC 7143 §11.3.1): untagged
    /// runs as SIMPLE.
    private static let taskAttributes: [SCSITaskAttribute] = [.simple, .simple, .ordered, .headOfQueue, .aca]

    private func runTaskManagement(_ id: TargetSessionStateMachine.TaskManagementID, _ code: TaskManagementFunctionCode, lun: UInt64) {
        guard let function = TaskManagementFunction(code) else { return }  // the machine answers it alone
        guard let device, let nexus, let registration, let context else {
            // As in `execute`: a function the machine waits for is always answered.
            machine.taskManagementFinished(id, outcome: .functionRejected, actions: &actions)
            return
        }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let sessions = services.sessions
        let targetName = registration.target?.name ?? ""
        _Concurrency.Task {
            let outcome = await sessions.perform(function, lun: lun, nexus: nexus, on: device, issuer: registration.tsih, targetName: targetName)
            eventLoop.execute {
                handler.value.handle { $0.taskManagementFinished(id, outcome: outcome, actions: &$1) }
            }
        }
    }

    private func loopTaskExecutor(_ eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        if let taskExecutor { return taskExecutor }
        let executor = EventLoopTaskExecutor(eventLoop)
        taskExecutor = executor
        return executor
    }

    // MARK: - Writing

    /// Encodes and writes one PDU (flushed at the end of the read batch or event). The
    /// per-command PDUs are written through the generic path, not boxed in an
    /// existential on the way.
    private func write(_ pdu: consuming ISCSIPDU, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch consume pdu {
        case .dataIn(let message): ISCSIPDUEncoder.write(message, settings: framing, context: context, promise: promise)
        case .scsiResponse(let message): ISCSIPDUEncoder.write(message, settings: framing, context: context, promise: promise)
        case .readyToTransfer(let message): ISCSIPDUEncoder.write(message, settings: framing, context: context, promise: promise)
        case let other: ISCSIPDUEncoder.write(other.message, settings: framing, context: context, promise: promise)
        }
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

    // MARK: - NOP-In pings (§11.19)

    private func startPinging(_ context: ChannelHandlerContext) {
        guard let interval = services.nopInInterval else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        pingTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let lastHeard = handler.value.lastHeard
            handler.value.handle { $0.pingTimerFired(now: .now(), lastHeard: lastHeard, interval: interval, actions: &$1) }
        }
    }
}

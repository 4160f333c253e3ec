import BlockStorage
import ISCSIProtocol
import NIOCore
import SCSIProtocol

/// One connection of a target session, from its first Login Request to its end, as a
/// pure state machine: events in, actions out. No channel, no clock, no Swift tasks:
/// the driver (`TargetConnectionHandler`) reads the socket, calls the device server,
/// arms the ping timer, and performs what comes out, in order.
///
/// ```
///            Login Request                        sessionOpened
///   ┌───────┐ (TargetLoginStateMachine) ┌─────────────┐ (new session)  ┌──────────────┐
///   │ login │──────── complete ────────▶│   opening   │───────────────▶│ full feature │
///   └───────┘                           └─────────────┘                └──────────────┘
///       │                       reinstates │        ▲  old session's          │
///       │ login failed,                    ▼        │  tasks drained          │ Logout, COLD RESET,
///       │ non-login PDU        ┌─────────────────────────┐                    │ ping timeout,
///       │                      │ awaiting reinstatement  │                    │ connection lost
///       │                      └─────────────────────────┘                    ▼
///       │                                   │                           ┌──────────┐
///       └───────────────────────────────────┴──────────────────────────▶│ closing  │──▶ endSession
///                                                                       └──────────┘   (no task left in
///                                                                                       the device server)
/// ```
///
/// In Full Feature Phase each SCSI task has a stage of its own (``TaskStage``):
///
/// ```
///   command ──▶ awaitingUnsolicitedData ──▶ r2tOutstanding ──┐
///      │                                                     ├──▶ (in CmdSN order, not held
///      └─────────────────────────────────────────────────────┘     by an ORDERED task)
///                                                                  executing ──▶ response sent
///            ABORT TASK, ABORT TASK SET, CLEAR TASK SET, resets:       │
///            not started: ended at once; executing ──▶ aborting ───────┴──▶ TMF response
///            ABORT TASK SET, CLEAR TASK SET: r2tOutstanding ──▶            ▲
///              abortedAwaitingSolicitedData ── each R2T's sequence ended ──┘
///            ABORT TASK SET, CLEAR TASK SET, another nexus's function: and the StatSNs
///              sent before acknowledged by the initiator (a NOP-In asks, §11.6.2 d)
/// ```
///
/// ERL 0, one connection per session (MaxConnections=1): the session ends with it.
public struct TargetSessionStateMachine {
    /// What the driver must do, in the order given.
    public enum Action {
        /// Write this PDU (the driver flushes at the end of a read batch or of an event).
        case send(ISCSIPDU)
        /// Write this PDU, then close the connection once it is on the wire.
        case sendAndClose(ISCSIPDU)
        /// Close the connection now; the reason is for the log.
        case close(reason: String)
        /// Something an admin should be able to read in the log.
        case log(LogLevel, String)
        /// Login is complete: register the session (TSIH, reinstatement), then call
        /// ``sessionOpened(tsih:reinstating:)`` or ``sessionRefused(_:)``.
        case openSession(LoginResult)
        /// The last Login Response has been sent: flush it, then switch the framing to
        /// the negotiated digests and segment length, and start pinging.
        case startFullFeaturePhase(LoginResult)
        /// Hand this task to the device server; report its end with ``taskFinished``.
        case execute(TaskExecution)
        /// Cancel a task in the device server (aborted, or its connection is gone).
        case cancel(_Concurrency.Task<Void, Never>)
        /// Run a task management function in the device server (it drains the logical
        /// unit or target); report its end with ``taskManagementFinished(_:outcome:)``.
        case runTaskManagement(TaskManagementID, TaskManagementFunctionCode, lun: UInt64)
        /// This session's part of another nexus's task management function is done (see
        /// ``tasksAbortedByAnotherNexus(lun:request:actions:)``): report it to the issuer.
        case abortByAnotherNexusConcluded(AbortRequestID)
        /// The connection is closing and no task is left in the device server: the I_T
        /// nexus is lost (SAM-5 §6.3.4) and the session may leave the session table.
        case endSession
    }

    /// The driver's name for one ``tasksAbortedByAnotherNexus(lun:request:actions:)``.
    public struct AbortRequestID: Hashable, Sendable {
        public let rawValue: UInt64
        public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    }

    public enum LogLevel: Sendable {
        case debug, info, notice
    }

    /// One task for the device server.
    public struct TaskExecution {
        public let initiatorTaskTag: InitiatorTaskTag
        public let cdb: [UInt8]
        public let lun: UInt64
        public let expectedDataTransferLength: UInt32
        public let attribute: TaskAttribute
        /// The write data as it arrived (nil for a command without Data-Out).
        public let dataOut: SegmentedBuffer?
    }

    /// Where a SCSI task of this session is (see the diagram above).
    public enum TaskStage: Sendable, Hashable {
        /// Unsolicited Data-Out still to come (InitialR2T=No, §13.11).
        case awaitingUnsolicitedData
        /// Waiting for the data of R2Ts sent (§11.8).
        case r2tOutstanding
        /// Has its data, waits for its turn in CmdSN order.
        case awaitingTurn
        /// In CmdSN order, but behind an ORDERED task (SAM-5 §8.6.3).
        case heldByOrderedTask
        /// In the device server.
        case executing
        /// Aborted while in the device server: its result will be dropped.
        case aborting
        /// Aborted by ABORT TASK SET or CLEAR TASK SET before the device server, while
        /// R2Ts of it were outstanding: the function's response waits until the
        /// initiator has ended each of their Data-Out sequences (§11.5.1).
        case abortedAwaitingSolicitedData
        /// Ended by another I_T nexus's task management function while in the device
        /// server: answered TASK ABORTED once it has left (TAS = 1, SAM-5 §5.3.2).
        case abortedByAnotherNexus
    }

    public struct TaskManagementID: Hashable, Sendable {
        let rawValue: UInt32
    }

    public struct Configuration {
        /// How many commands the initiator may have outstanding (MaxCmdSN - ExpCmdSN + 1).
        public var commandWindowDepth: UInt32
        /// How long an unanswered NOP-In ping may wait before the connection is dropped.
        public var nopInTimeout: TimeAmount
        /// The SendTargets answer for a selector (RFC 7143 Appendix C): "All", "" (the
        /// session's own target) or a target name.
        public var sendTargets: (_ selector: String, _ session: LoginResult) -> TextParameters

        public init(commandWindowDepth: UInt32, nopInTimeout: TimeAmount,
                    sendTargets: @escaping (_ selector: String, _ session: LoginResult) -> TextParameters) {
            self.commandWindowDepth = commandWindowDepth
            self.nopInTimeout = nopInTimeout
            self.sendTargets = sendTargets
        }
    }

    private enum Phase {
        // Boxed: the login machine is large, and without the box every read of `phase`
        // on the per-PDU path copies it through its value witness.
        indirect case login(TargetLoginStateMachine)
        indirect case opening(LoginResponse, LoginResult)
        indirect case awaitingReinstatement(LoginResponse, LoginResult)
        case fullFeature
        case closing
    }

    private let configuration: Configuration
    private var phase: Phase
    /// Full Feature Phase state; kept while closing, for the tasks still out.
    private var session: Session?
    private var sessionEnded = false

    /// A machine at the start of a connection, expecting a Login Request.
    public init(login: TargetLoginStateMachine, configuration: Configuration) {
        self.configuration = configuration
        self.phase = .login(login)
    }

    /// A machine already in Full Feature Phase, as after a login with `result` (for
    /// driving the Full Feature rules directly, as the unit tests do).
    public init(fullFeature result: LoginResult, hasTarget: Bool, configuration: Configuration) {
        self.configuration = configuration
        self.phase = .fullFeature
        self.session = Session(login: result, hasTarget: hasTarget, configuration: configuration)
    }

    // MARK: - Events

    /// A PDU arrived (`actions` is appended to, never cleared).
    public mutating func receive(_ pdu: consuming ISCSIPDU, actions: inout [Action]) {
        switch phase {
        case .fullFeature:
            session!.receive(pdu, actions: &actions)
            if session!.closing { enterClosing(actions: &actions) }
        case .login(var machine):
            guard case .loginRequest(let request) = pdu else {
                // Only Login Requests are legal before Full Feature Phase (RFC 7143 §6.3).
                closeNow(reason: "a PDU other than Login Request during login (§6.3)", actions: &actions)
                return
            }
            switch machine.receive(request) {
            case .sendResponse(let response):
                phase = .login(machine)
                actions.append(.send(.loginResponse(response)))
            case .failAndClose(let response, let reason):
                actions.append(.log(.notice, "login failed: \(reason) (status \(response.status))"))
                actions.append(.send(.loginResponse(response)))
                closeNow(reason: "login failed", actions: &actions)
            case .complete(let response, let result):
                phase = .opening(response, result)
                actions.append(.openSession(result))
            }
        case .opening, .awaitingReinstatement, .closing:
            return
        }
    }

    /// A PDU that could be framed but not decoded (the framer's Reject reason): during
    /// login the connection ends; in Full Feature Phase it is rejected (§11.17).
    public mutating func receiveUndecodable(_ header: BasicHeaderSegment, reason: ISCSIRejectReason, error: String, actions: inout [Action]) {
        switch phase {
        case .fullFeature:
            session!.reject(reason, header: header, because: error, actions: &actions)
        case .login:
            closeNow(reason: "undecodable PDU during login: \(error)", actions: &actions)
        case .opening, .awaitingReinstatement, .closing:
            return
        }
    }

    /// The session is registered under `tsih`. When it reinstates sessions that still
    /// have tasks in the device server, the last Login Response waits for
    /// ``reinstatedSessionsDrained()`` (§6.3.5).
    public mutating func sessionOpened(tsih: TSIH, hasTarget: Bool, reinstating: Bool, actions: inout [Action]) {
        guard case .opening(var response, let result) = phase else { return }
        response.tsih = tsih
        session = Session(login: result, hasTarget: hasTarget, configuration: configuration)
        if reinstating {
            phase = .awaitingReinstatement(response, result)
            actions.append(.log(.info, "reinstating session \(tsih): waiting for the old session's tasks"))
        } else {
            startFullFeaturePhase(response, result, actions: &actions)
        }
    }

    /// The login names an existing session (TSIH not 0): adding a connection needs
    /// MC/S, which we never offer (MaxConnections=1, §6.3.4).
    public mutating func sessionRefused(sessionExists: Bool, actions: inout [Action]) {
        guard case .opening(var response, let result) = phase else { return }
        response.status = sessionExists ? .tooManyConnections : .sessionDoesNotExist
        response.transit = false
        actions.append(.log(.notice, "login to existing session \(result.requestedTSIH) refused"))
        actions.append(.send(.loginResponse(response)))
        closeNow(reason: "login refused", actions: &actions)
    }

    /// The sessions this login reinstates have no task left in the device server.
    public mutating func reinstatedSessionsDrained(actions: inout [Action]) {
        guard case .awaitingReinstatement(let response, let result) = phase else { return }
        startFullFeaturePhase(response, result, actions: &actions)
    }

    /// The device server has finished a task started by ``Action/execute(_:)``.
    public mutating func taskFinished(_ tag: InitiatorTaskTag, _ result: consuming SCSICommandResult, actions: inout [Action]) {
        session!.tasksInDeviceServer -= 1
        if case .fullFeature = phase {
            session!.finish(tag, result, actions: &actions)
            if session!.closing { enterClosing(actions: &actions) }
        } else {
            endSessionIfDrained(actions: &actions)
        }
    }

    /// The Swift task that runs an ``Action/execute(_:)`` in the device server, kept so
    /// that an abort can cancel it (not called when the task finished inside `execute`).
    public mutating func taskStarted(_ tag: InitiatorTaskTag, execution: _Concurrency.Task<Void, Never>) {
        session?.taskStarted(tag, execution: execution)
    }

    /// The device server has answered a ``Action/runTaskManagement(_:_:lun:)``.
    public mutating func taskManagementFinished(_ id: TaskManagementID, outcome: TaskManagementResponseCode, actions: inout [Action]) {
        guard case .fullFeature = phase else { return }
        session!.taskManagementFinished(id, outcome: outcome, actions: &actions)
        if session!.closing { enterClosing(actions: &actions) }
    }

    /// A task management function received on another I_T nexus ends this session's
    /// tasks in logical unit `lun` (every unit when nil): CLEAR TASK SET, LOGICAL UNIT
    /// RESET and the target resets reach every nexus's tasks (SAM-5 §7.4, §7.7, §7.9).
    /// With TAS = 1 each ends with TASK ABORTED status (SAM-5 §5.3.2), so the
    /// initiator need not wait for its command timeout: at once when it has not reached
    /// the device server, once it has left it otherwise (it is cancelled).
    ///
    /// ``Action/abortByAnotherNexusConcluded(_:)`` follows once those responses are
    /// sent and the initiator has acknowledged them (RFC 7143 §11.6.2 d: the issuer's
    /// response waits for every session sharing the task set), or once the connection
    /// is gone.
    public mutating func tasksAbortedByAnotherNexus(lun: UInt64?, request: AbortRequestID, actions: inout [Action]) {
        guard case .fullFeature = phase else {
            actions.append(.abortByAnotherNexusConcluded(request))
            return
        }
        session!.abortForAnotherNexus(lun: lun, request: request, actions: &actions)
        if session!.closing { enterClosing(actions: &actions) }
    }

    /// The ping timer fired at `now`; the peer was last heard from at `lastHeard`
    /// (RFC 7143 §11.19: a NOP-In with a TTT asks for a NOP-Out answer).
    public mutating func pingTimerFired(now: NIODeadline, lastHeard: NIODeadline, interval: TimeAmount, actions: inout [Action]) {
        guard case .fullFeature = phase else { return }
        session!.ping(now: now, lastHeard: lastHeard, interval: interval, actions: &actions)
        if session!.closing { enterClosing(actions: &actions) }
    }

    /// The connection has ended (closed by either side, or failed).
    public mutating func connectionClosed(actions: inout [Action]) {
        enterClosing(actions: &actions)
    }

    // MARK: - Observations (for the driver's log and for tests)

    /// Tasks handed to the device server and not yet back, whatever the phase.
    public var tasksInDeviceServer: Int { session?.tasksInDeviceServer ?? 0 }

    /// The stage of this session's task `tag`, nil when there is no such task.
    public func stage(of tag: InitiatorTaskTag) -> TaskStage? {
        session?.tasks[tag]?.stage
    }

    /// The session's CmdSN window and next StatSN (§4.2.2).
    public var status: StatusSequence? { session?.currentStatus }

    public var isInFullFeaturePhase: Bool {
        if case .fullFeature = phase { true } else { false }
    }

    public var isClosing: Bool {
        if case .closing = phase { true } else { false }
    }

    // MARK: - Phase changes

    private mutating func startFullFeaturePhase(_ response: LoginResponse, _ result: LoginResult, actions: inout [Action]) {
        phase = .fullFeature
        actions.append(.send(.loginResponse(response)))
        actions.append(.startFullFeaturePhase(result))
    }

    private mutating func closeNow(reason: String, actions: inout [Action]) {
        actions.append(.close(reason: reason))
        enterClosing(actions: &actions)
    }

    /// At ERL 0 the session's tasks end with its connection (§7.1.4): those in the
    /// device server are cancelled, and the session ends once they are all out.
    private mutating func enterClosing(actions: inout [Action]) {
        if case .closing = phase { return }
        phase = .closing
        session?.cancelAll(actions: &actions)
        endSessionIfDrained(actions: &actions)
    }

    private mutating func endSessionIfDrained(actions: inout [Action]) {
        guard case .closing = phase, (session?.tasksInDeviceServer ?? 0) == 0, !sessionEnded else { return }
        sessionEnded = true
        actions.append(.endSession)
    }
}

// MARK: - Full Feature Phase

extension TargetSessionStateMachine {
    /// A PDU waiting in the CmdSN window.
    private enum Ordered {
        /// The task itself, not its tag: delivering it needs no lookup, and a task that
        /// ended while it waited (``SCSITask/ended``) is told apart from a later one
        /// that reuses the tag.
        case scsi(SCSITask)
        case nop(NOPOut)
        case text(TextRequest)
        case logout(LogoutRequest)
        case taskManagement(TaskManagementRequest)
    }

    /// One SCSI task of this session, from its command PDU to its response. A class
    /// so that the per-command updates happen in place, with one table lookup each and
    /// no copy of the task; the tasks are the machine's alone (it is never copied while
    /// driven).
    private final class SCSITask {
        enum Execution {
            case notStarted
            /// In the device server; its Swift task once known (nil when it has not
            /// suspended yet).
            case executing(_Concurrency.Task<Void, Never>?)
            case aborting
            /// See ``TaskStage/abortedAwaitingSolicitedData``; never reaches the device server.
            case abortedAwaitingSolicitedData
            /// See ``TaskStage/abortedByAnotherNexus``.
            case abortedByAnotherNexus
        }

        let command: SCSICommandRequest
        /// Write data received so far (immediate data and Data-Out), as it arrived.
        var dataOut = DataOutBuffer()
        var transfer: WriteTransfer?
        /// Reached its turn in CmdSN order.
        var delivered = false
        /// Delivered, but held back by an ORDERED task (see `Session.heldByOrdered`).
        var held = false
        /// Out of the session's table (answered, aborted or dropped).
        var ended = false
        var execution = Execution.notStarted
        /// R2Ts sent, for ExpDataSN in the response (§11.4.8).
        var r2tCount: UInt32 = 0

        init(command: SCSICommandRequest) {
            self.command = command
        }

        var dataComplete: Bool { transfer?.isComplete ?? true }

        var notStarted: Bool {
            if case .notStarted = execution { true } else { false }
        }

        var stage: TaskStage {
            switch execution {
            case .executing: return .executing
            case .aborting: return .aborting
            case .abortedAwaitingSolicitedData: return .abortedAwaitingSolicitedData
            case .abortedByAnotherNexus: return .abortedByAnotherNexus
            case .notStarted:
                if let transfer, !transfer.isComplete { return transfer.awaitingUnsolicited ? .awaitingUnsolicitedData : .r2tOutstanding }
                return held ? .heldByOrderedTask : .awaitingTurn
            }
        }
    }

    /// A task management function that waits for the tasks it aborted to leave the
    /// device server before it is answered (SAM-5 §7, RFC 7143 §11.6.2).
    private struct PendingTaskManagement {
        let id: TaskManagementID
        var response: TaskManagementResponse
        /// Aborted tasks still in the device server.
        var awaiting: Set<InitiatorTaskTag>
        /// What the device server answered; nil while it is still at work.
        var outcome: TaskManagementResponseCode?
        /// TARGET COLD RESET closes the connection once answered (§11.5.1).
        let closeAfter: Bool
        /// ABORT TASK SET and CLEAR TASK SET are answered only once the initiator has
        /// acknowledged every status sent before (§11.6.2 d).
        let awaitsAcknowledgement: Bool
        /// The StatSN the initiator's ExpStatSN must reach: noted once the tasks are out
        /// and the device server has answered.
        var acknowledgedThrough: SequenceNumber? = nil
    }

    /// Another nexus's task management function that ended tasks of this session, until
    /// their TASK ABORTED responses are sent and acknowledged (§11.6.2 d).
    private struct AbortByAnotherNexus {
        let request: AbortRequestID
        /// Its tasks still in the device server (each answered once out).
        var awaiting: Set<InitiatorTaskTag>
        /// It ended tasks of this session, so the initiator must have heard of it. One
        /// that found none has nothing to conclude here, whatever was sent before.
        let awaitsAcknowledgement: Bool
        var acknowledgedThrough: SequenceNumber? = nil
    }

    private struct Session {
        let login: LoginResult
        let hasTarget: Bool
        let sendTargets: (_ selector: String, _ session: LoginResult) -> TextParameters
        let nopInTimeout: TimeAmount
        var window: CommandWindow<Ordered>
        var statSN: SequenceNumber
        var tasks: [InitiatorTaskTag: SCSITask] = [:]
        /// Text response still to be sent in continuation PDUs (§11.10.2).
        var pendingText: (tag: TargetTransferTag, initiatorTaskTag: InitiatorTaskTag, rest: [UInt8])?
        /// Task management functions waiting for their aborted tasks, in arrival order.
        var pendingTaskManagement: [PendingTaskManagement] = []
        var nextTaskManagementID: UInt32 = 0
        /// Delivered tasks, in CmdSN order, that may not reach the device server yet:
        /// ORDERED tasks whose logical unit still has earlier tasks of this session
        /// waiting for data, and the tasks of that unit after them (SAM-5 §8.6.3). The
        /// device server orders what it has been handed; this keeps the hand-over in
        /// order. Empty unless ORDERED tasks are used.
        var heldByOrdered: [InitiatorTaskTag] = []
        var nextTransferTag: UInt32 = 1
        /// The NOP-In ping we are waiting on (§11.19).
        var outstandingPing: (tag: TargetTransferTag, deadline: NIODeadline)?
        /// ExpStatSN of the initiator's latest PDU: it has every status numbered before
        /// it (§4.2.2.2).
        var expStatSN: SequenceNumber
        /// The NOP-In that asks the initiator to acknowledge our StatSNs, while unanswered.
        var acknowledgementRequest: TargetTransferTag?
        /// Other nexuses' functions waiting for this session's part, in arrival order.
        var abortsByOtherNexuses: [AbortByAnotherNexus] = []
        /// Tasks handed to the device server and not yet back (kept while closing).
        var tasksInDeviceServer = 0
        /// Set by a rule that ends the connection; the machine then enters closing.
        var closing = false
        var parameters: OperationalParameters { login.parameters }

        init(login: LoginResult, hasTarget: Bool, configuration: Configuration) {
            self.login = login
            self.hasTarget = hasTarget
            self.sendTargets = configuration.sendTargets
            self.nopInTimeout = configuration.nopInTimeout
            self.window = CommandWindow(expCmdSN: login.expectedCmdSN, depth: configuration.commandWindowDepth)
            self.statSN = login.nextStatSN
            self.expStatSN = login.nextStatSN
        }

        // MARK: Dispatch

        /// Consumes the PDU: a command's fields (CDB, immediate data) move into its task
        /// instead of being copied (each copy retains them).
        mutating func receive(_ pdu: consuming ISCSIPDU, actions: inout [Action]) {
            switch consume pdu {
            case .scsiCommand(let command):
                receiveCommand(command, actions: &actions)
            case .dataOut(let data):
                acknowledge(data.expStatSN, actions: &actions)
                receiveDataOut(data, actions: &actions)
            case .nopOut(let nop):
                if nop.initiatorTaskTag == .reserved {
                    // The answer to our ping (§11.18.1): no response, no CmdSN.
                    if nop.targetTransferTag == outstandingPing?.tag { outstandingPing = nil }
                    if nop.targetTransferTag == acknowledgementRequest { acknowledgementRequest = nil }
                    acknowledge(nop.expStatSN, actions: &actions)
                } else {
                    acknowledge(nop.expStatSN, actions: &actions)
                    order(.nop(nop), cmdSN: nop.cmdSN, immediate: nop.immediate, actions: &actions)
                }
            case .textRequest(let text):
                acknowledge(text.expStatSN, actions: &actions)
                order(.text(text), cmdSN: text.cmdSN, immediate: text.immediate, actions: &actions)
            case .logoutRequest(let logout):
                acknowledge(logout.expStatSN, actions: &actions)
                order(.logout(logout), cmdSN: logout.cmdSN, immediate: logout.immediate, actions: &actions)
            case .taskManagementRequest(let request):
                acknowledge(request.expStatSN, actions: &actions)
                order(.taskManagement(request), cmdSN: request.cmdSN, immediate: request.immediate, actions: &actions)
            case .snackRequest(let snack):
                reject(.protocolError, header: snack.encodedHeader(), because: "SNACK needs ErrorRecoveryLevel > 0, which is never negotiated (§11.16)", actions: &actions)
            case .loginRequest(let login):
                reject(.protocolError, header: login.encodedHeader(), because: "Login Request in Full Feature Phase", actions: &actions)
            case let other:
                // A target opcode sent to a target (§11.17.1: command not supported).
                reject(.commandNotSupported, header: other.message.encodedHeader(), because: "a target-side opcode was sent to the target", actions: &actions)
            }
        }

        /// Runs a PDU through the CmdSN window, then everything it unblocked (§3.2.2.1).
        mutating func order(_ item: Ordered, cmdSN: SequenceNumber, immediate: Bool, actions: inout [Action]) {
            switch window.receive(item, cmdSN: cmdSN, immediate: immediate) {
            case .outOfWindow:
                actions.append(.log(.debug, "dropping PDU with CmdSN \(cmdSN) outside the window [\(window.expCmdSN), \(window.maxCmdSN)]"))
            case .queued:
                break
            case .deliver(let item, let unblocked):
                deliver(item, actions: &actions)
                for item in unblocked { deliver(item, actions: &actions) }
            }
        }

        mutating func deliver(_ item: Ordered, actions: inout [Action]) {
            switch item {
            case .scsi(let task):
                guard !task.ended, task.notStarted else { return }  // aborted while waiting
                let tag = task.command.initiatorTaskTag
                task.delivered = true
                let lun = task.command.lun
                let attribute = task.command.attribute
                if attribute == .headOfQueue {
                    // Starts before the dormant tasks (SAM-5 §8.6.4).
                } else if heldByOrdered.contains(where: { tasks[$0]?.command.lun == lun })
                    || attribute == .ordered && hasEarlierUnstartedTask(onLUN: lun, other: tag)
                {
                    task.held = true
                    heldByOrdered.append(tag)
                    return
                }
                startIfReady(task, actions: &actions)
            case .nop(let nop):
                // §11.19: a NOP-Out with a valid ITT is answered with a NOP-In echoing its data.
                var reply = NOPIn()
                reply.lun = nop.lun
                reply.initiatorTaskTag = nop.initiatorTaskTag
                reply.data = nop.data
                reply.sequence = nextStatus()
                actions.append(.send(.nopIn(reply)))
            case .text(let text): answerText(text, actions: &actions)
            case .logout(let logout): answerLogout(logout, actions: &actions)
            case .taskManagement(let request): answerTaskManagement(request, actions: &actions)
            }
        }

        // MARK: SCSI commands and data

        mutating func receiveCommand(_ command: consuming SCSICommandRequest, actions: inout [Action]) {
            // Here, not in `receive`: a second use there made the command a copy.
            acknowledge(command.expStatSN, actions: &actions)
            guard login.sessionType == .normal, hasTarget else {
                reject(.protocolError, header: command.encodedHeader(), because: "SCSI Command in a discovery session (§4.3)", actions: &actions)
                return
            }
            let immediateLength = UInt32(command.data.readableBytes)
            guard immediateLength == 0 || (command.isWrite && parameters.immediateData && immediateLength <= min(command.expectedDataTransferLength, UInt32(parameters.firstBurstLength))) else {
                reject(.protocolError, header: command.encodedHeader(), because: "immediate data without W, not negotiated, or beyond FirstBurstLength (§13.11, §13.14)", actions: &actions)
                return
            }
            // Out-of-window commands are dropped before they take any resources (§4.2.2.1).
            guard command.immediate || (window.expCmdSN.precedesOrEquals(command.cmdSN) && command.cmdSN.precedesOrEquals(window.maxCmdSN)) else {
                actions.append(.log(.debug, "dropping SCSI Command with CmdSN \(command.cmdSN) outside the window"))
                return
            }
            let tag = command.initiatorTaskTag
            let cmdSN = command.cmdSN
            let immediate = command.immediate
            // The command moves into its task; from here on it is `task.command`.
            let task = SCSITask(command: command)
            if task.command.isWrite, task.command.expectedDataTransferLength > 0 {
                task.dataOut.append(task.command.data)
                task.transfer = WriteTransfer(
                    expectedLength: task.command.expectedDataTransferLength,
                    immediateLength: immediateLength,
                    unsolicitedExpected: !parameters.initialR2T && !task.command.isFinal,
                    firstBurstLength: UInt32(parameters.firstBurstLength),
                    maxBurstLength: UInt32(parameters.maxBurstLength),
                    maxOutstandingR2T: parameters.maxOutstandingR2T
                )
            }
            // One lookup both checks the tag and files the task.
            if let inUse = tasks.updateValue(task, forKey: tag) {
                tasks[tag] = inUse
                reject(.taskInProgress, header: task.command.encodedHeader(), because: "Initiator Task Tag \(tag) is already in use", actions: &actions)
                return
            }
            if task.transfer != nil { sendReadyToTransfer(task, actions: &actions) }
            order(.scsi(task), cmdSN: cmdSN, immediate: immediate, actions: &actions)
        }

        mutating func receiveDataOut(_ dataOut: DataOut, actions: inout [Action]) {
            let tag = dataOut.initiatorTaskTag
            let task = tasks[tag]
            if let task, case .abortedAwaitingSolicitedData = task.execution {
                drain(task, dataOut, actions: &actions)
                return
            }
            guard let task, task.notStarted, var transfer = task.transfer else {
                // Data for a task we aborted or never had: ignored (§11.7, ERL 0).
                actions.append(.log(.debug, "ignoring Data-Out for task \(tag), which is not waiting for data"))
                return
            }
            do {
                try transfer.accept(dataOut)
            } catch {
                reject(.protocolError, header: dataOut.encodedHeader(), because: "Data-Out for task \(tag): \(error)", actions: &actions)
                return
            }
            task.dataOut.append(dataOut.data)
            task.transfer = transfer
            sendReadyToTransfer(task, actions: &actions)
            startIfReady(task, actions: &actions)
        }

        /// Issues whatever R2Ts the task's transfer allows now (§11.8).
        mutating func sendReadyToTransfer(_ task: SCSITask, actions: inout [Action]) {
            let requests = task.transfer!.nextRequests { Self.makeTransferTag(&nextTransferTag) }
            guard !requests.isEmpty else { return }
            task.r2tCount += UInt32(requests.count)
            for request in requests {
                var r2t = ReadyToTransfer()
                r2t.lun = task.command.lun
                r2t.initiatorTaskTag = task.command.initiatorTaskTag
                r2t.targetTransferTag = request.targetTransferTag
                r2t.sequence = currentStatus
                r2t.r2tSN = request.r2tSN
                r2t.bufferOffset = request.bufferOffset
                r2t.desiredDataTransferLength = request.desiredLength
                actions.append(.send(.readyToTransfer(r2t)))
            }
        }

        /// Hands a task to the device server once it is in order, not held, and its
        /// data is complete.
        mutating func startIfReady(_ task: SCSITask, actions: inout [Action]) {
            guard !task.held else {
                releaseHeldTasks(actions: &actions)
                return
            }
            guard task.delivered, task.notStarted, task.dataComplete else { return }
            task.execution = .executing(nil)
            tasksInDeviceServer += 1
            // Fields read through `task.command`, not a copy of it (which retains them all).
            actions.append(.execute(TaskExecution(
                initiatorTaskTag: task.command.initiatorTaskTag, cdb: task.command.cdb, lun: task.command.lun,
                expectedDataTransferLength: task.command.expectedDataTransferLength, attribute: task.command.attribute,
                dataOut: task.dataOut.take()
            )))
            if !heldByOrdered.isEmpty { releaseHeldTasks(actions: &actions) }
        }

        mutating func taskStarted(_ tag: InitiatorTaskTag, execution: _Concurrency.Task<Void, Never>) {
            guard let task = tasks[tag], case .executing(nil) = task.execution else { return }
            task.execution = .executing(execution)
        }

        /// Whether a task of this session on `lun`, delivered before `other` and not
        /// held, has still not reached the device server (it waits for its data).
        func hasEarlierUnstartedTask(onLUN lun: UInt64, other: InitiatorTaskTag) -> Bool {
            tasks.contains { $0.key != other && $0.value.command.lun == lun && $0.value.delivered && $0.value.notStarted && !$0.value.held }
        }

        /// Hands over, in order, the held tasks that may now go: an ORDERED task once no
        /// earlier task of its unit is left waiting and its own data is in, then the
        /// tasks of that unit after it, up to the next ORDERED task that must wait.
        mutating func releaseHeldTasks(actions: inout [Action]) {
            var blocked: Set<UInt64> = []
            var index = 0
            while index < heldByOrdered.count {
                let tag = heldByOrdered[index]
                guard let task = tasks[tag] else {
                    heldByOrdered.remove(at: index)
                    continue
                }
                let lun = task.command.lun
                let mustWait =
                    blocked.contains(lun)
                    || task.command.attribute == .ordered && (!task.dataComplete || hasEarlierUnstartedTask(onLUN: lun, other: tag))
                guard !mustWait else {
                    blocked.insert(lun)
                    index += 1
                    continue
                }
                heldByOrdered.remove(at: index)
                task.held = false
                startIfReady(task, actions: &actions)
                index = 0  // starting it may have changed what the others wait for
                blocked = []
            }
        }

        /// Data-In and status for a finished task (§11.4, §11.7), unless it was aborted:
        /// then the task management functions waiting for it may be answered.
        mutating func finish(_ tag: InitiatorTaskTag, _ result: consuming SCSICommandResult, actions: inout [Action]) {
            guard let task = tasks.removeValue(forKey: tag) else { return }
            task.ended = true
            let abortedByAnotherNexus = if case .abortedByAnotherNexus = task.execution { true } else { false }
            if abortedByAnotherNexus { result = SCSICommandResult(status: .taskAborted) }
            if case .aborting = task.execution {
                stopAwaiting(tag)
                concludeTaskManagement(actions: &actions)
                return
            }
            let expected = task.command.expectedDataTransferLength
            let isRead = task.command.isRead
            let lun = task.command.lun
            var dataIn = result.dataIn.take() ?? ByteBuffer()
            let produced: Int
            if let used = result.dataOutLengthUsed, task.command.isWrite {
                produced = used
            } else {
                produced = dataIn.readableBytes
                // Never send more than the initiator allocated (§11.4.5.1 overflow).
                if dataIn.readableBytes > Int(expected) { dataIn.moveWriterIndex(to: dataIn.readerIndex + Int(expected)) }
                if !isRead { dataIn.clear() }
            }
            let residual: Residual =
                produced > Int(expected) ? .overflow(UInt32(produced) - expected)
                : produced < Int(expected) ? .underflow(expected - UInt32(produced)) : .none

            // Phase collapse (§11.7.4): GOOD status without sense rides in the last Data-In.
            let collapse = result.status == .good && result.sense == nil && dataIn.readableBytes > 0
            var dataSN: UInt32 = 0
            if dataIn.readableBytes > 0 {
                // Segments of at most MaxRecvDataSegmentLength, F at each MaxBurstLength (§11.7.1).
                let segment = parameters.peerMaxRecvDataSegmentLength
                let burst = parameters.maxBurstLength
                var offset = 0
                while dataIn.readableBytes > 0 {
                    let length = min(segment, dataIn.readableBytes, burst - offset % burst)
                    var pdu = DataIn()
                    pdu.lun = lun
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
                        pdu.sequence = nextStatus()
                    } else {
                        pdu.sequence = currentStatus
                    }
                    actions.append(.send(.dataIn(pdu)))
                }
            }
            if !collapse {
                var response = SCSIResponse()
                response.status = result.status.rawValue
                response.sense = result.sense.take() ?? []
                response.residual = residual
                response.initiatorTaskTag = tag
                response.expDataSN = SequenceNumber(isRead ? dataSN : task.r2tCount)
                response.sequence = nextStatus()
                actions.append(.send(.scsiResponse(response)))
            }
            if abortedByAnotherNexus {
                stopAwaiting(tag)
                concludeTaskManagement(actions: &actions)
            }
        }

        // MARK: Text and Logout

        mutating func answerText(_ request: TextRequest, actions: inout [Action]) {
            var chunk: [UInt8]
            if request.targetTransferTag != .reserved {
                // A continuation request for the rest of a long answer (§11.10.4).
                guard let pending = pendingText, pending.tag == request.targetTransferTag,
                    pending.initiatorTaskTag == request.initiatorTaskTag
                else {
                    reject(.invalidPDUField, header: request.encodedHeader(), because: "Text Request continues no answer of ours (TTT \(request.targetTransferTag))", actions: &actions)
                    return
                }
                chunk = pending.rest
            } else {
                let offered: TextParameters
                do {
                    offered = try TextParameters(decoding: request.data.getBytes(at: request.data.readerIndex, length: request.data.readableBytes) ?? [])
                } catch {
                    reject(.protocolError, header: request.encodedHeader(), because: "Text Request: \(error)", actions: &actions)
                    return
                }
                var answer = TextParameters()
                for (key, value) in offered.pairs {
                    if key == "SendTargets" {
                        for pair in sendTargets(value, login).pairs { answer.append(pair.key, pair.value) }
                    } else {
                        // Renegotiation in Full Feature Phase is not supported beyond declarations.
                        answer.append(key, NegotiationKey.table[key] == nil ? "NotUnderstood" : "Reject")
                    }
                }
                chunk = answer.encoded
            }
            let limit = parameters.peerMaxRecvDataSegmentLength
            var response = TextResponse()
            response.lun = request.lun
            response.initiatorTaskTag = request.initiatorTaskTag
            if chunk.count > limit {
                // The rest follows when the initiator asks with our TTT (§11.10.2, C bit).
                let tag = Self.makeTransferTag(&nextTransferTag)
                pendingText = (tag, request.initiatorTaskTag, Array(chunk[limit...]))
                chunk = Array(chunk[..<limit])
                response.isFinal = false
                response.continue = true
                response.targetTransferTag = tag
            } else {
                pendingText = nil
            }
            response.data = ByteBuffer(bytes: chunk)
            response.sequence = nextStatus()
            actions.append(.send(.textResponse(response)))
        }

        mutating func answerLogout(_ request: LogoutRequest, actions: inout [Action]) {
            var response = LogoutResponse()
            response.initiatorTaskTag = request.initiatorTaskTag
            switch LogoutReason(rawValue: request.reasonCode) {
            case .closeSession, .closeConnection:
                response.response = request.reasonCode == LogoutReason.closeConnection.rawValue && request.connectionID != login.connectionID ? .cidNotFound : .success
            case .removeConnectionForRecovery:
                response.response = .recoveryNotSupported
            case nil:
                reject(.invalidPDUField, header: request.encodedHeader(), because: "Logout reason code \(request.reasonCode) is not defined (§11.14.1)", actions: &actions)
                return
            }
            response.sequence = nextStatus()
            if response.response == .success {
                actions.append(.log(.info, "logout (reason \(request.reasonCode))"))
                actions.append(.sendAndClose(.logoutResponse(response)))
                closing = true
            } else {
                actions.append(.send(.logoutResponse(response)))
            }
        }

        // MARK: Task management

        /// Task management (RFC 7143 §11.5, SAM-5 §7). The affected tasks of this
        /// session that have not reached the device server end at once; those in it are
        /// cancelled (their backend I/O is dropped if it has not started) and the
        /// response waits until each has left, so nothing of an aborted task reaches the
        /// medium after it (§11.6.2). ABORT TASK SET, CLEAR TASK SET and the resets also
        /// run in the device server, which waits there for the other sessions' tasks in
        /// the logical unit (or target) and resets its state. ABORT TASK SET and CLEAR
        /// TASK SET are answered once the initiator has acknowledged the status sent
        /// before (§11.6.2 d). Affected tasks still missing behind a CmdSN gap are not
        /// waited for (§11.6.2 b): on the session's one connection at ERL 0 nothing fills
        /// a gap but the initiator, and waiting on it could hold the function forever.
        mutating func answerTaskManagement(_ request: TaskManagementRequest, actions: inout [Action]) {
            var response = TaskManagementResponse()
            response.initiatorTaskTag = request.initiatorTaskTag
            let id = TaskManagementID(rawValue: nextTaskManagementID)
            nextTaskManagementID &+= 1
            func answer(_ code: TaskManagementResponseCode, awaiting: Set<InitiatorTaskTag> = [], actions: inout [Action]) {
                pendingTaskManagement.append(PendingTaskManagement(
                    id: id, response: response, awaiting: awaiting, outcome: code, closeAfter: false, awaitsAcknowledgement: false))
                concludeTaskManagement(actions: &actions)
            }
            guard let function = TaskManagementFunctionCode(rawValue: request.function), hasTarget else {
                answer(hasTarget ? .functionNotSupported : .functionRejected, actions: &actions)
                return
            }
            switch function {
            case .abortTask:
                let referenced = request.referencedTaskTag
                if tasks[referenced] != nil {
                    let awaiting = abort(drainingTransfers: false, actions: &actions) { tag, _ in tag == referenced }
                    answer(.functionComplete, awaiting: awaiting, actions: &actions)
                } else if window.expCmdSN.precedesOrEquals(request.refCmdSN), request.refCmdSN.precedes(request.cmdSN) || request.immediate {
                    // §11.5.1: a task that never arrived but whose RefCmdSN is in the
                    // window counts as received and aborted.
                    answer(.functionComplete, actions: &actions)
                } else {
                    answer(.taskDoesNotExist, actions: &actions)
                }
            case .clearACA:
                // ACA is never established: NACA=1 is refused (SAM-5 §5.9.2).
                answer(.functionNotSupported, actions: &actions)
            case .taskReassign:
                // Needs ErrorRecoveryLevel 2 (§11.5.1).
                answer(.taskAllegianceReassignmentNotSupported, actions: &actions)
            case .abortTaskSet, .clearTaskSet, .logicalUnitReset, .targetWarmReset, .targetColdReset:
                let lunScoped = function != .targetWarmReset && function != .targetColdReset
                // §11.5.1: for these two the initiator keeps answering the R2Ts it has,
                // and the target must wait for those answers.
                let drains = function == .abortTaskSet || function == .clearTaskSet
                let awaiting = abort(drainingTransfers: drains, actions: &actions) { _, task in !lunScoped || task.command.lun == request.lun }
                pendingTaskManagement.append(PendingTaskManagement(
                    id: id, response: response, awaiting: awaiting, outcome: nil, closeAfter: function == .targetColdReset,
                    awaitsAcknowledgement: drains))
                actions.append(.runTaskManagement(id, function, lun: request.lun))
            }
        }

        /// Aborts this session's tasks that `affected` selects and returns those to be
        /// waited for: the ones in the device server are cancelled and waited for; with
        /// `drainingTransfers`, so is the end of the Data-Out sequences of outstanding
        /// R2Ts; every other task ends now (a draining one too, without
        /// `drainingTransfers`: a reset need not wait for the initiator).
        mutating func abort(drainingTransfers: Bool, actions: inout [Action], _ affected: (InitiatorTaskTag, SCSITask) -> Bool) -> Set<InitiatorTaskTag> {
            var awaited: Set<InitiatorTaskTag> = []
            for (tag, task) in tasks where affected(tag, task) {
                switch task.execution {
                case .executing(let execution):
                    task.execution = .aborting
                    if let execution { actions.append(.cancel(execution)) }
                    awaited.insert(tag)
                case .aborting, .abortedByAnotherNexus:
                    // Aborted by this session's own function now: no status at all.
                    task.execution = .aborting
                    awaited.insert(tag)
                case .notStarted where drainingTransfers && task.transfer?.hasOutstandingRequests == true,
                    .abortedAwaitingSolicitedData where drainingTransfers:
                    task.execution = .abortedAwaitingSolicitedData
                    task.dataOut = DataOutBuffer()
                    awaited.insert(tag)
                case .notStarted, .abortedAwaitingSolicitedData:
                    drop(tag)
                }
            }
            tasksEnded(actions: &actions)
            return awaited
        }

        /// See ``TargetSessionStateMachine/tasksAbortedByAnotherNexus(lun:actions:)``.
        mutating func abortForAnotherNexus(lun: UInt64?, request: AbortRequestID, actions: inout [Action]) {
            var awaited: Set<InitiatorTaskTag> = []
            var answeredNow = false
            for (tag, task) in tasks where lun.map({ task.command.lun == $0 }) ?? true {
                switch task.execution {
                case .executing(let execution):
                    task.execution = .abortedByAnotherNexus
                    if let execution { actions.append(.cancel(execution)) }
                    awaited.insert(tag)
                case .abortedByAnotherNexus:
                    awaited.insert(tag)  // by an earlier function; its response is still to come
                case .notStarted:
                    finish(tag, SCSICommandResult(status: .taskAborted), actions: &actions)
                    answeredNow = true
                case .abortedAwaitingSolicitedData:
                    // Its own function already answers for it: it ends without status.
                    drop(tag)
                case .aborting:
                    break  // its own session's function ends it without status
                }
            }
            abortsByOtherNexuses.append(AbortByAnotherNexus(
                request: request, awaiting: awaited, awaitsAcknowledgement: answeredNow || !awaited.isEmpty))
            tasksEnded(actions: &actions)
        }

        /// After an abort: the held tasks no longer wait for the tasks that ended, and the
        /// functions that waited only for those are answered.
        mutating func tasksEnded(actions: inout [Action]) {
            if !heldByOrdered.isEmpty {
                heldByOrdered.removeAll { tasks[$0]?.notStarted != true }
                releaseHeldTasks(actions: &actions)
            }
            concludeTaskManagement(actions: &actions)
        }

        /// A Data-Out for a task aborted while R2Ts of it were outstanding: its data is
        /// dropped; once no sequence is left open, the task ends.
        mutating func drain(_ task: SCSITask, _ dataOut: DataOut, actions: inout [Action]) {
            task.transfer!.drain(dataOut)
            guard !task.transfer!.hasOutstandingRequests else { return }
            drop(task.command.initiatorTaskTag)
            concludeTaskManagement(actions: &actions)
        }

        /// Ends a task without a response: out of the table, and no function waits for it.
        mutating func drop(_ tag: InitiatorTaskTag) {
            tasks.removeValue(forKey: tag)?.ended = true
            stopAwaiting(tag)
        }

        /// No task management function waits for `tag` any more.
        mutating func stopAwaiting(_ tag: InitiatorTaskTag) {
            for index in pendingTaskManagement.indices { pendingTaskManagement[index].awaiting.remove(tag) }
            for index in abortsByOtherNexuses.indices { abortsByOtherNexuses[index].awaiting.remove(tag) }
        }

        mutating func taskManagementFinished(_ id: TaskManagementID, outcome: TaskManagementResponseCode, actions: inout [Action]) {
            guard let index = pendingTaskManagement.firstIndex(where: { $0.id == id }) else { return }
            pendingTaskManagement[index].outcome = outcome
            concludeTaskManagement(actions: &actions)
        }

        /// Sends, in arrival order, the responses of the task management functions that
        /// the device server has answered and whose aborted tasks have all left it, and
        /// reports this session's part of other nexuses' functions done. For ABORT TASK
        /// SET, CLEAR TASK SET and other nexuses' functions, the StatSNs sent until then
        /// must also have been acknowledged (§11.6.2 d).
        mutating func concludeTaskManagement(actions: inout [Action]) {
            while let first = abortsByOtherNexuses.first, first.awaiting.isEmpty {
                if first.awaitsAcknowledgement {
                    let mark = first.acknowledgedThrough ?? statSN
                    abortsByOtherNexuses[0].acknowledgedThrough = mark
                    guard isAcknowledged(through: mark, actions: &actions) else { break }
                }
                abortsByOtherNexuses.removeFirst()
                actions.append(.abortByAnotherNexusConcluded(first.request))
            }
            while let first = pendingTaskManagement.first, first.awaiting.isEmpty, let outcome = first.outcome {
                if first.awaitsAcknowledgement {
                    let mark = first.acknowledgedThrough ?? statSN
                    pendingTaskManagement[0].acknowledgedThrough = mark
                    guard isAcknowledged(through: mark, actions: &actions) else { return }
                }
                pendingTaskManagement.removeFirst()
                var response = first.response
                response.response = outcome
                response.sequence = nextStatus()
                if first.closeAfter {
                    actions.append(.log(.notice, "TARGET COLD RESET: closing the connection (§11.5.1)"))
                    actions.append(.sendAndClose(.taskManagementResponse(response)))
                    closing = true
                    return
                }
                actions.append(.send(.taskManagementResponse(response)))
            }
            // Nothing waits any more: a NOP-In still unanswered need not hold back the next.
            if pendingTaskManagement.isEmpty && abortsByOtherNexuses.isEmpty { acknowledgementRequest = nil }
        }

        /// Whether the initiator has acknowledged every StatSN before `mark` (the StatSN
        /// next to be sent when the wait was noted). If not, a NOP-In asks it to (§11.6.2
        /// d allows soliciting so): its answer carries the ExpStatSN.
        mutating func isAcknowledged(through mark: SequenceNumber, actions: inout [Action]) -> Bool {
            if mark.precedesOrEquals(expStatSN) { return true }
            if acknowledgementRequest == nil {
                var nop = NOPIn()
                nop.targetTransferTag = Self.makeTransferTag(&nextTransferTag)
                nop.sequence = currentStatus
                acknowledgementRequest = nop.targetTransferTag
                actions.append(.send(.nopIn(nop)))
            }
            return false
        }

        /// The initiator's ExpStatSN from a PDU; a function waiting for it may now conclude.
        mutating func acknowledge(_ expStatSN: SequenceNumber, actions: inout [Action]) {
            self.expStatSN = expStatSN
            if !pendingTaskManagement.isEmpty || !abortsByOtherNexuses.isEmpty { concludeTaskManagement(actions: &actions) }
        }

        /// Cancels every task in the device server (the connection is gone) and forgets
        /// the rest; other nexuses' functions need wait no longer for this session.
        mutating func cancelAll(actions: inout [Action]) {
            for task in tasks.values {
                task.ended = true
                if case .executing(let execution?) = task.execution { actions.append(.cancel(execution)) }
            }
            tasks = [:]
            heldByOrdered = []
            pendingTaskManagement = []
            for abort in abortsByOtherNexuses { actions.append(.abortByAnotherNexusConcluded(abort.request)) }
            abortsByOtherNexuses = []
        }

        // MARK: NOP-In pings (§11.19)

        mutating func ping(now: NIODeadline, lastHeard: NIODeadline, interval: TimeAmount, actions: inout [Action]) {
            if let ping = outstandingPing {
                if now > ping.deadline {
                    actions.append(.close(reason: "the initiator did not answer a NOP-In within \(nopInTimeout)"))
                    closing = true
                }
                return
            }
            guard now - lastHeard >= interval else { return }
            var nop = NOPIn()
            nop.targetTransferTag = Self.makeTransferTag(&nextTransferTag)
            nop.sequence = currentStatus
            outstandingPing = (nop.targetTransferTag, now + nopInTimeout)
            actions.append(.send(.nopIn(nop)))
        }

        // MARK: Sequence numbers

        /// StatSN for a response that consumes one, with the current window (§4.2.2.2).
        mutating func nextStatus() -> StatusSequence {
            defer { statSN = statSN.advanced(by: 1) }
            return currentStatus
        }

        /// The window without consuming a StatSN (R2T, Data-In without status, pings).
        var currentStatus: StatusSequence {
            StatusSequence(statSN: statSN, expCmdSN: window.expCmdSN, maxCmdSN: window.maxCmdSN)
        }

        mutating func reject(_ reason: ISCSIRejectReason, header: BasicHeaderSegment, because explanation: String, actions: inout [Action]) {
            var reject = Reject(reason: reason, rejectedHeader: header)
            reject.sequence = nextStatus()
            actions.append(.log(.notice, "rejecting PDU: \(explanation)"))
            actions.append(.send(.reject(reject)))
        }

        /// Target Transfer Tags cycle through 1...0xFFFFFFFE (0xFFFFFFFF is reserved, §11.2.1).
        static func makeTransferTag(_ next: inout UInt32) -> TargetTransferTag {
            defer { next = next == 0xFFFF_FFFE ? 1 : next + 1 }
            return TargetTransferTag(next)
        }
    }
}

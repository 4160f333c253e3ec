import BlockStorage
import ISCSIProtocol
import NIOCore
import SCSIProtocol
import Testing

@testable import ISCSISession

/// The target's Full Feature Phase rules, driven through the pure machine: PDUs and
/// device-server events in, actions out; no channel, no clock.
@Suite("Target session state machine")
struct TargetSessionStateMachineTests {
    typealias Machine = TargetSessionStateMachine
    typealias Action = Machine.Action

    /// A machine in Full Feature Phase and what it said last.
    struct Driver {
        var machine: Machine
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)

        init(parameters: OperationalParameters = Driver.parameters, sessionType: SessionType = .normal, hasTarget: Bool = true, window: UInt32 = 8) {
            let result = LoginResult(
                initiatorName: LoginFixture.initiatorName, initiatorAlias: nil,
                targetName: sessionType == .normal ? LoginFixture.targetName : nil, sessionType: sessionType,
                isid: LoginFixture.isid, requestedTSIH: .new, connectionID: 1, parameters: parameters,
                expectedCmdSN: SequenceNumber(1), nextStatSN: SequenceNumber(100)
            )
            machine = Machine(fullFeature: result, hasTarget: hasTarget, configuration: Driver.configuration(window: window))
        }

        static var parameters: OperationalParameters {
            var parameters = OperationalParameters()
            parameters.peerMaxRecvDataSegmentLength = 4096
            parameters.maxBurstLength = 8192
            parameters.firstBurstLength = 8192
            parameters.initialR2T = true
            parameters.immediateData = true
            parameters.maxOutstandingR2T = 1
            return parameters
        }

        static func configuration(window: UInt32 = 8) -> Machine.Configuration {
            Machine.Configuration(commandWindowDepth: window, nopInTimeout: .seconds(5)) { selector, session in
                var text = TextParameters()
                let names = selector == "All" ? ["iqn.2024-01.org.swiftport.test:a", "iqn.2024-01.org.swiftport.test:b"] : [session.targetName ?? "?"]
                for name in names {
                    text.append("TargetName", name)
                    text.append("TargetAddress", "127.0.0.1:3260,1")
                }
                return text
            }
        }

        /// Feeds a PDU in. By default it acknowledges every status sent so far (its
        /// ExpStatSN is the next StatSN), as from an initiator that has read them all.
        mutating func receive(_ pdu: ISCSIPDU, acknowledgingStatus: Bool = true) -> [Action] {
            var actions: [Action] = []
            machine.receive(acknowledgingStatus ? Self.acknowledging(pdu, through: machine.status?.statSN) : pdu, actions: &actions)
            return actions
        }

        private static func acknowledging(_ pdu: ISCSIPDU, through statSN: SequenceNumber?) -> ISCSIPDU {
            guard let statSN else { return pdu }
            switch pdu {
            case .scsiCommand(var m): m.expStatSN = statSN; return .scsiCommand(m)
            case .dataOut(var m): m.expStatSN = statSN; return .dataOut(m)
            case .nopOut(var m): m.expStatSN = statSN; return .nopOut(m)
            case .textRequest(var m): m.expStatSN = statSN; return .textRequest(m)
            case .logoutRequest(var m): m.expStatSN = statSN; return .logoutRequest(m)
            case .taskManagementRequest(var m): m.expStatSN = statSN; return .taskManagementRequest(m)
            default: return pdu
            }
        }

        mutating func abortedByAnotherNexus(lun: UInt64?, request: UInt64) -> [Action] {
            var actions: [Action] = []
            machine.tasksAbortedByAnotherNexus(lun: lun, request: Machine.AbortRequestID(request), actions: &actions)
            return actions
        }

        mutating func finish(_ tag: UInt32, _ result: SCSICommandResult) -> [Action] {
            var actions: [Action] = []
            machine.taskFinished(InitiatorTaskTag(tag), result, actions: &actions)
            return actions
        }

        mutating func tmfFinished(_ id: Machine.TaskManagementID, _ outcome: TaskManagementResponseCode = .functionComplete) -> [Action] {
            var actions: [Action] = []
            machine.taskManagementFinished(id, outcome: outcome, actions: &actions)
            return actions
        }

        mutating func ping(after seconds: Int64, lastHeard: NIODeadline) -> [Action] {
            now = now + .seconds(seconds)
            var actions: [Action] = []
            machine.pingTimerFired(now: now, lastHeard: lastHeard, interval: .seconds(10), actions: &actions)
            return actions
        }

        mutating func closed() -> [Action] {
            var actions: [Action] = []
            machine.connectionClosed(actions: &actions)
            return actions
        }
    }

    // MARK: - PDU builders

    static func read(_ tag: UInt32, cmdSN: UInt32, length: UInt32 = 512, lun: UInt64 = 0, attribute: TaskAttribute = .simple, immediate: Bool = false) -> ISCSIPDU {
        var command = SCSICommandRequest()
        command.isRead = true
        command.initiatorTaskTag = InitiatorTaskTag(tag)
        command.cmdSN = SequenceNumber(cmdSN)
        command.expectedDataTransferLength = length
        command.lun = lun
        command.attribute = attribute
        command.immediate = immediate
        command.cdb = [0x28, 0, 0, 0, 0, 0, 0, 0, UInt8(length / 512), 0]
        return .scsiCommand(command)
    }

    static func write(_ tag: UInt32, cmdSN: UInt32, length: UInt32, immediateData: Int = 0, lun: UInt64 = 0, attribute: TaskAttribute = .simple) -> ISCSIPDU {
        var command = SCSICommandRequest()
        command.isWrite = true
        command.initiatorTaskTag = InitiatorTaskTag(tag)
        command.cmdSN = SequenceNumber(cmdSN)
        command.expectedDataTransferLength = length
        command.lun = lun
        command.attribute = attribute
        command.cdb = [0x2A, 0, 0, 0, 0, 0, 0, 0, UInt8(length / 512), 0]
        command.data = ByteBuffer(repeating: 0xAB, count: immediateData)
        return .scsiCommand(command)
    }

    static func dataOut(_ tag: UInt32, ttt: TargetTransferTag, offset: UInt32, length: Int, dataSN: UInt32 = 0, final: Bool = true) -> ISCSIPDU {
        var pdu = DataOut()
        pdu.initiatorTaskTag = InitiatorTaskTag(tag)
        pdu.targetTransferTag = ttt
        pdu.bufferOffset = offset
        pdu.dataSN = SequenceNumber(dataSN)
        pdu.isFinal = final
        pdu.data = ByteBuffer(repeating: 0xCD, count: length)
        return .dataOut(pdu)
    }

    static func taskManagement(_ function: TaskManagementFunctionCode, tag: UInt32, cmdSN: UInt32, referenced: UInt32 = 0xFFFF_FFFF, refCmdSN: UInt32 = 0, lun: UInt64 = 0) -> ISCSIPDU {
        var request = TaskManagementRequest()
        request.function = function.rawValue
        request.initiatorTaskTag = InitiatorTaskTag(tag)
        request.referencedTaskTag = InitiatorTaskTag(referenced)
        request.refCmdSN = SequenceNumber(refCmdSN)
        request.cmdSN = SequenceNumber(cmdSN)
        request.lun = lun
        return .taskManagementRequest(request)
    }

    static func text(_ tag: UInt32, cmdSN: UInt32, _ pairs: [(String, String)] = [], ttt: TargetTransferTag = .reserved) -> ISCSIPDU {
        var request = TextRequest()
        request.initiatorTaskTag = InitiatorTaskTag(tag)
        request.cmdSN = SequenceNumber(cmdSN)
        request.targetTransferTag = ttt
        request.data = ByteBuffer(bytes: TextParameters(pairs).encoded)
        return .textRequest(request)
    }

    static let good = SCSICommandResult(status: .good)

    // MARK: - Reading the actions

    static func sent(_ actions: [Action]) -> [ISCSIPDU] {
        actions.compactMap { if case .send(let pdu) = $0 { pdu } else { nil } }
    }

    static func executed(_ actions: [Action]) -> [UInt32] {
        actions.compactMap { if case .execute(let execution) = $0 { execution.initiatorTaskTag.rawValue } else { nil } }
    }

    static func responses(_ actions: [Action]) -> [SCSIResponse] {
        sent(actions).compactMap { if case .scsiResponse(let response) = $0 { response } else { nil } }
    }

    static func dataIns(_ actions: [Action]) -> [DataIn] {
        sent(actions).compactMap { if case .dataIn(let pdu) = $0 { pdu } else { nil } }
    }

    static func r2ts(_ actions: [Action]) -> [ReadyToTransfer] {
        sent(actions).compactMap { if case .readyToTransfer(let r2t) = $0 { r2t } else { nil } }
    }

    static func rejects(_ actions: [Action]) -> [Reject] {
        sent(actions).compactMap { if case .reject(let reject) = $0 { reject } else { nil } }
    }

    static func tmfResponses(_ actions: [Action]) -> [TaskManagementResponse] {
        actions.compactMap {
            switch $0 {
            case .send(.taskManagementResponse(let response)), .sendAndClose(.taskManagementResponse(let response)): response
            default: nil
            }
        }
    }

    static func cancels(_ actions: [Action]) -> Int {
        actions.count { if case .cancel = $0 { true } else { false } }
    }

    static func taskManagementRun(_ actions: [Action]) -> (Machine.TaskManagementID, TaskManagementFunctionCode, UInt64)? {
        for action in actions { if case .runTaskManagement(let id, let function, let lun) = action { return (id, function, lun) } }
        return nil
    }

    static func closes(_ actions: [Action]) -> Bool {
        actions.contains { if case .close = $0 { true } else if case .sendAndClose = $0 { true } else { false } }
    }

    static func endsSession(_ actions: [Action]) -> Bool {
        actions.contains { if case .endSession = $0 { true } else { false } }
    }

    static func handle() -> _Concurrency.Task<Void, Never> {
        _Concurrency.Task {}
    }

    // MARK: - Login and session registration (§6.3)

    /// Sends a one-step login (security straight to Full Feature Phase) and returns the
    /// actions it produced.
    static func logIn(_ machine: inout Machine) -> [Action] {
        var actions: [Action] = []
        machine.receive(.loginRequest(LoginFixture.request(.securityNegotiation, next: .fullFeaturePhase, [
            ("InitiatorName", LoginFixture.initiatorName), ("TargetName", LoginFixture.targetName),
            ("SessionType", "Normal"), ("AuthMethod", "None"),
        ])), actions: &actions)
        return actions
    }

    @Test("login: the last response waits for the session table, then Full Feature Phase starts")
    func loginOpensSession() {
        var machine = Machine(login: LoginFixture.machine(), configuration: Driver.configuration())
        var actions = Self.logIn(&machine)
        guard actions.count == 1, case .openSession(let result) = actions[0] else {
            Issue.record("expected openSession, got \(actions)")
            return
        }
        #expect(result.targetName == LoginFixture.targetName)
        #expect(!machine.isInFullFeaturePhase)

        actions = []
        machine.sessionOpened(tsih: TSIH(rawValue: 9), hasTarget: true, reinstating: false, actions: &actions)
        guard actions.count == 2, case .send(.loginResponse(let response)) = actions[0], case .startFullFeaturePhase = actions[1] else {
            Issue.record("expected the login response, then startFullFeaturePhase: \(actions)")
            return
        }
        #expect(response.tsih == TSIH(rawValue: 9))
        #expect(response.status == .success)
        #expect(machine.isInFullFeaturePhase)
    }

    @Test("reinstatement (§6.3.5): no login response until the old session's tasks have drained")
    func reinstatementWaits() {
        var machine = Machine(login: LoginFixture.machine(), configuration: Driver.configuration())
        var actions = Self.logIn(&machine)
        actions = []
        machine.sessionOpened(tsih: TSIH(rawValue: 3), hasTarget: true, reinstating: true, actions: &actions)
        #expect(Self.sent(actions).isEmpty)
        #expect(!machine.isInFullFeaturePhase)
        // A command sent before the response is ignored, not executed.
        machine.receive(Self.read(1, cmdSN: 1), actions: &actions)
        #expect(Self.executed(actions).isEmpty)

        actions = []
        machine.reinstatedSessionsDrained(actions: &actions)
        guard case .send(.loginResponse(let response)) = actions.first else {
            Issue.record("expected the login response: \(actions)")
            return
        }
        #expect(response.tsih == TSIH(rawValue: 3))
        #expect(machine.isInFullFeaturePhase)
    }

    @Test("a login naming an existing session is refused: MC/S is not offered (§6.3.4)")
    func loginToExistingSessionRefused() {
        var machine = Machine(login: LoginFixture.machine(), configuration: Driver.configuration())
        var actions = Self.logIn(&machine)
        actions = []
        machine.sessionRefused(sessionExists: true, actions: &actions)
        guard case .loginResponse(let response) = Self.sent(actions).first else {
            Issue.record("expected a login response: \(actions)")
            return
        }
        #expect(response.status == .tooManyConnections)
        #expect(Self.closes(actions))
        #expect(Self.endsSession(actions))
    }

    @Test("a PDU other than a Login Request during login closes the connection (§6.3)")
    func nonLoginPDUDuringLogin() {
        var machine = Machine(login: LoginFixture.machine(), configuration: Driver.configuration())
        var actions: [Action] = []
        machine.receive(Self.read(1, cmdSN: 1), actions: &actions)
        #expect(Self.closes(actions))
        #expect(Self.sent(actions).isEmpty)
        #expect(machine.isClosing)
    }

    // MARK: - CmdSN window and StatSN (§4.2.2)

    @Test("commands run in CmdSN order; a gap holds the later ones; outside the window is dropped")
    func commandWindowOrder() {
        var driver = Driver(window: 4)
        #expect(Self.executed(driver.receive(Self.read(3, cmdSN: 3))).isEmpty)
        #expect(Self.executed(driver.receive(Self.read(2, cmdSN: 2))).isEmpty)
        #expect(Self.executed(driver.receive(Self.read(1, cmdSN: 1))) == [1, 2, 3])
        #expect(driver.machine.status?.expCmdSN == SequenceNumber(4))
        #expect(driver.machine.status?.maxCmdSN == SequenceNumber(7))
        // CmdSN 8 is past MaxCmdSN 7; CmdSN 2 is a duplicate.
        #expect(driver.receive(Self.read(8, cmdSN: 8)).allSatisfy { if case .log = $0 { true } else { false } })
        #expect(Self.executed(driver.receive(Self.read(9, cmdSN: 2))).isEmpty)
        #expect(driver.machine.stage(of: InitiatorTaskTag(8)) == nil)
        // An immediate command runs at once and does not advance ExpCmdSN.
        #expect(Self.executed(driver.receive(Self.read(10, cmdSN: 4, immediate: true))) == [10])
        #expect(driver.machine.status?.expCmdSN == SequenceNumber(4))
    }

    @Test("StatSN: one per response; R2T and Data-In without status carry the current one")
    func statSNNumbering() {
        var driver = Driver()
        _ = driver.receive(Self.read(1, cmdSN: 1, length: 512))
        let first = Self.dataIns(driver.finish(1, SCSICommandResult(status: .good, dataIn: ByteBuffer(repeating: 1, count: 512))))
        #expect(first.count == 1 && first[0].status == 0 && first[0].sequence.statSN == SequenceNumber(100))
        let r2ts = Self.r2ts(driver.receive(Self.write(2, cmdSN: 2, length: 1024)))
        #expect(r2ts.count == 1 && r2ts[0].sequence.statSN == SequenceNumber(101), "an R2T does not consume a StatSN")
        _ = driver.receive(Self.dataOut(2, ttt: r2ts[0].targetTransferTag, offset: 0, length: 1024))
        let response = Self.responses(driver.finish(2, Self.good))
        #expect(response.first?.sequence.statSN == SequenceNumber(101))
        #expect(response.first?.expDataSN == SequenceNumber(1), "ExpDataSN of a write counts its R2Ts (§11.4.8)")
        #expect(driver.machine.status?.statSN == SequenceNumber(102))
    }

    // MARK: - Writes: immediate data, R2T, Data-Out (§11.7, §11.8)

    @Test("a write whose data all came as immediate data runs at once with it")
    func immediateWrite() {
        var driver = Driver()
        let actions = driver.receive(Self.write(1, cmdSN: 1, length: 4096, immediateData: 4096))
        #expect(Self.r2ts(actions).isEmpty)
        guard case .execute(let execution) = actions.first else {
            Issue.record("expected execute: \(actions)")
            return
        }
        #expect(execution.dataOut?.readableBytes == 4096)
    }

    @Test("R2Ts of at most MaxBurstLength, one outstanding, until the data is in; then the task runs")
    func solicitedWrite() {
        var driver = Driver()
        let length: UInt32 = 12288  // MaxBurstLength 8192: two R2Ts, one at a time
        let first = driver.receive(Self.write(1, cmdSN: 1, length: length, immediateData: 1024))
        let r2t1 = Self.r2ts(first)
        #expect(r2t1.count == 1)
        #expect(r2t1.first?.bufferOffset == 1024)
        #expect(r2t1.first?.desiredDataTransferLength == 8192)
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == .r2tOutstanding)
        #expect(Self.executed(first).isEmpty)

        let second = driver.receive(Self.dataOut(1, ttt: r2t1[0].targetTransferTag, offset: 1024, length: 8192))
        let r2t2 = Self.r2ts(second)
        #expect(r2t2.first?.bufferOffset == 9216 && r2t2.first?.desiredDataTransferLength == 3072)
        #expect(r2t2.first?.r2tSN == SequenceNumber(1))
        #expect(r2t2.first?.targetTransferTag != r2t1.first?.targetTransferTag)
        #expect(Self.executed(second).isEmpty)

        let last = driver.receive(Self.dataOut(1, ttt: r2t2[0].targetTransferTag, offset: 9216, length: 3072))
        guard case .execute(let execution) = last.first else {
            Issue.record("expected execute: \(last)")
            return
        }
        #expect(execution.dataOut?.readableBytes == Int(length))
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == .executing)
    }

    @Test("unsolicited Data-Out (InitialR2T=No) is awaited before any R2T")
    func unsolicitedWrite() {
        var parameters = Driver.parameters
        parameters.initialR2T = false
        var driver = Driver(parameters: parameters)
        var command = SCSICommandRequest()
        command.isWrite = true
        command.isFinal = false
        command.initiatorTaskTag = InitiatorTaskTag(1)
        command.cmdSN = SequenceNumber(1)
        command.expectedDataTransferLength = 4096
        command.cdb = [0x2A, 0, 0, 0, 0, 0, 0, 0, 8, 0]
        #expect(Self.r2ts(driver.receive(.scsiCommand(command))).isEmpty)
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == .awaitingUnsolicitedData)
        #expect(Self.executed(driver.receive(Self.dataOut(1, ttt: .reserved, offset: 0, length: 4096))) == [1])
    }

    @Test("a Data-Out at the wrong offset is rejected and the task keeps waiting for the right one")
    func badDataOutRejected() {
        var driver = Driver()
        let r2t = Self.r2ts(driver.receive(Self.write(1, cmdSN: 1, length: 1024)))[0]
        let actions = driver.receive(Self.dataOut(1, ttt: r2t.targetTransferTag, offset: 512, length: 512))
        #expect(Self.rejects(actions).first?.reason == ISCSIRejectReason.protocolError.rawValue)
        #expect(Self.executed(actions).isEmpty)
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == .r2tOutstanding)
        #expect(Self.executed(driver.receive(Self.dataOut(1, ttt: r2t.targetTransferTag, offset: 0, length: 1024))) == [1])
    }

    @Test("Reject: a reused task tag, immediate data not negotiated, a command in a discovery session")
    func commandRejects() {
        var driver = Driver()
        _ = driver.receive(Self.read(1, cmdSN: 1))
        #expect(Self.rejects(driver.receive(Self.read(1, cmdSN: 2))).first?.reason == ISCSIRejectReason.taskInProgress.rawValue)

        var noImmediate = Driver.parameters
        noImmediate.immediateData = false
        var strict = Driver(parameters: noImmediate)
        #expect(Self.rejects(strict.receive(Self.write(1, cmdSN: 1, length: 512, immediateData: 512))).first?.reason == ISCSIRejectReason.protocolError.rawValue)

        var discovery = Driver(sessionType: .discovery, hasTarget: false)
        #expect(Self.rejects(discovery.receive(Self.read(1, cmdSN: 1))).first?.reason == ISCSIRejectReason.protocolError.rawValue)
    }

    @Test("SNACK at ERL 0 and target opcodes are rejected (§11.16, §11.17.1)")
    func opcodeRejects() {
        var driver = Driver()
        #expect(Self.rejects(driver.receive(.snackRequest(SNACKRequest()))).first?.reason == ISCSIRejectReason.protocolError.rawValue)
        #expect(Self.rejects(driver.receive(.dataIn(DataIn()))).first?.reason == ISCSIRejectReason.commandNotSupported.rawValue)
    }

    // MARK: - Data-In and status (§11.4, §11.7)

    @Test("Data-In: segments of MaxRecvDataSegmentLength, F at each burst, status collapsed into the last")
    func dataInSegmentation() {
        var driver = Driver()  // segments 4096, bursts 8192
        _ = driver.receive(Self.read(1, cmdSN: 1, length: 12288))
        let actions = driver.finish(1, SCSICommandResult(status: .good, dataIn: ByteBuffer(repeating: 7, count: 12288)))
        let pdus = Self.dataIns(actions)
        #expect(pdus.map(\.bufferOffset) == [0, 4096, 8192])
        #expect(pdus.map(\.dataSN) == [SequenceNumber(0), SequenceNumber(1), SequenceNumber(2)])
        #expect(pdus.map(\.isFinal) == [false, true, true])
        #expect(pdus.map(\.status) == [nil, nil, 0])
        #expect(pdus.map(\.sequence.statSN) == [SequenceNumber(100), SequenceNumber(100), SequenceNumber(100)])
        #expect(Self.responses(actions).isEmpty, "phase collapse: no separate SCSI Response")
        #expect(driver.machine.status?.statSN == SequenceNumber(101))
    }

    @Test("residuals: short data is an underflow; data past the allocation is cut and an overflow")
    func residuals() {
        var driver = Driver()
        _ = driver.receive(Self.read(1, cmdSN: 1, length: 1024))
        let short = Self.dataIns(driver.finish(1, SCSICommandResult(status: .good, dataIn: ByteBuffer(repeating: 1, count: 600))))
        #expect(short.last?.residual == .underflow(424))
        _ = driver.receive(Self.read(2, cmdSN: 2, length: 512))
        let long = Self.dataIns(driver.finish(2, SCSICommandResult(status: .good, dataIn: ByteBuffer(repeating: 1, count: 700))))
        #expect(long.last?.residual == .overflow(188))
        #expect(long.last?.data.readableBytes == 512)
        // A write whose CDB asks for less than the Expected Data Transfer Length.
        _ = driver.receive(Self.write(3, cmdSN: 3, length: 1024, immediateData: 1024))
        #expect(Self.responses(driver.finish(3, SCSICommandResult(status: .good, dataOutLengthUsed: 512))).first?.residual == .underflow(512))
    }

    @Test("CHECK CONDITION: a SCSI Response with the sense, never collapsed into Data-In")
    func checkConditionResponse() {
        var driver = Driver()
        _ = driver.receive(Self.read(1, cmdSN: 1, length: 512))
        let sense: [UInt8] = [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0]
        let actions = driver.finish(1, SCSICommandResult(status: .checkCondition, sense: sense, dataIn: ByteBuffer(repeating: 0, count: 512)))
        #expect(Self.dataIns(actions).allSatisfy { $0.status == nil })
        let response = Self.responses(actions)
        #expect(response.first?.status == 2)
        #expect(response.first?.sense == sense)
        #expect(response.first?.expDataSN == SequenceNumber(UInt32(Self.dataIns(actions).count)))
    }

    // MARK: - Task management (§11.5, §11.6.2, SAM-5 §7)

    @Test("ABORT TASK of a task in the device server: cancelled, answered only once it has left, its result dropped")
    func abortTaskWaitsForTheDeviceServer() {
        var driver = Driver()
        _ = driver.receive(Self.write(1, cmdSN: 1, length: 512, immediateData: 512))
        driver.machine.taskStarted(InitiatorTaskTag(1), execution: Self.handle())
        let abort = driver.receive(Self.taskManagement(.abortTask, tag: 50, cmdSN: 2, referenced: 1, refCmdSN: 1))
        #expect(Self.cancels(abort) == 1)
        #expect(Self.tmfResponses(abort).isEmpty, "no response while the write may still reach the medium")
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == .aborting)

        let finished = driver.finish(1, Self.good)
        #expect(Self.responses(finished).isEmpty, "an aborted task gets no SCSI Response")
        #expect(Self.tmfResponses(finished).map(\.response) == [.functionComplete])
        #expect(Self.tmfResponses(finished).first?.initiatorTaskTag == InitiatorTaskTag(50))
    }

    @Test("ABORT TASK of a task waiting for data ends it at once; its later Data-Out is ignored")
    func abortTaskWaitingForData() {
        var driver = Driver()
        let r2t = Self.r2ts(driver.receive(Self.write(1, cmdSN: 1, length: 1024)))[0]
        let abort = driver.receive(Self.taskManagement(.abortTask, tag: 50, cmdSN: 2, referenced: 1, refCmdSN: 1))
        #expect(Self.tmfResponses(abort).map(\.response) == [.functionComplete])
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == nil)
        let late = driver.receive(Self.dataOut(1, ttt: r2t.targetTransferTag, offset: 0, length: 1024))
        #expect(Self.executed(late).isEmpty && Self.rejects(late).isEmpty)
    }

    @Test("a task aborted while it waits behind a CmdSN gap is never delivered, not even as a later task with its tag")
    func abortedTaskInTheWindow() {
        var driver = Driver()
        _ = driver.receive(Self.read(7, cmdSN: 2))
        let abort = driver.receive(Self.taskManagement(.abortTask, tag: 50, cmdSN: 2, referenced: 7, refCmdSN: 2))
        #expect(Self.tmfResponses(abort).map(\.response) == [.functionComplete])
        // The tag is free again: a new task takes it, two CmdSNs later (3 is still missing).
        #expect(Self.executed(driver.receive(Self.read(7, cmdSN: 4))).isEmpty)
        // CmdSN 1 fills the first gap: 1 runs, the aborted 2 is skipped, and the new 7
        // still waits for CmdSN 3.
        #expect(Self.executed(driver.receive(Self.read(1, cmdSN: 1))) == [1])
        #expect(driver.machine.stage(of: InitiatorTaskTag(7)) == .awaitingTurn)
        #expect(Self.executed(driver.receive(Self.read(3, cmdSN: 3))) == [3, 7])
    }

    @Test("ABORT TASK of an unknown task: FUNCTION COMPLETE if its RefCmdSN is in the window, else TASK DOES NOT EXIST (§11.5.1)")
    func abortUnknownTask() {
        var driver = Driver()
        let inWindow = driver.receive(Self.taskManagement(.abortTask, tag: 50, cmdSN: 2, referenced: 9, refCmdSN: 1))
        #expect(Self.tmfResponses(inWindow).map(\.response) == [.functionComplete])
        let gone = driver.receive(Self.taskManagement(.abortTask, tag: 51, cmdSN: 3, referenced: 9, refCmdSN: 0))
        #expect(Self.tmfResponses(gone).map(\.response) == [.taskDoesNotExist])
    }

    /// Read 1 on LUN 0 in the device server (its Swift task known), read 2 on LUN 1.
    static func readsOnTwoUnits() -> Driver {
        var driver = Driver()
        _ = driver.receive(read(1, cmdSN: 1, lun: 0))
        _ = driver.receive(read(2, cmdSN: 2, lun: 1))
        driver.machine.taskStarted(InitiatorTaskTag(1), execution: handle())
        return driver
    }

    @Test("LOGICAL UNIT RESET: aborts the unit's tasks only, and answers once the device server and the aborted task are done")
    func logicalUnitReset() {
        var driver = Self.readsOnTwoUnits()
        let reset = driver.receive(Self.taskManagement(.logicalUnitReset, tag: 50, cmdSN: 3, lun: 0))
        #expect(Self.cancels(reset) == 1)
        guard let (id, function, lun) = Self.taskManagementRun(reset) else {
            Issue.record("expected runTaskManagement: \(reset)")
            return
        }
        #expect(function == .logicalUnitReset && lun == 0)
        #expect(driver.machine.stage(of: InitiatorTaskTag(2)) == .executing, "the other unit's task is untouched")

        #expect(Self.tmfResponses(driver.tmfFinished(id)).isEmpty, "task 1 is still in the device server")
        let done = driver.finish(1, Self.good)
        #expect(Self.tmfResponses(done).map(\.response) == [.functionComplete])
        #expect(Self.responses(driver.finish(2, Self.good)).count == 1)
    }

    @Test("ABORT TASK SET waits for the Data-Out sequences of the R2Ts it finds outstanding, ended by F, before answering (§11.5.1)")
    func abortTaskSetWaitsForOutstandingTransferTags() {
        var driver = Driver()
        // MaxBurstLength 8192: the first R2T asks for 8192 bytes.
        let r2t = Self.r2ts(driver.receive(Self.write(1, cmdSN: 1, length: 12288)))[0]
        _ = driver.receive(Self.dataOut(1, ttt: r2t.targetTransferTag, offset: 0, length: 4096, final: false))
        let abort = driver.receive(Self.taskManagement(.abortTaskSet, tag: 50, cmdSN: 2))
        let (id, _, _) = Self.taskManagementRun(abort)!
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == .abortedAwaitingSolicitedData)
        #expect(Self.tmfResponses(driver.tmfFinished(id)).isEmpty, "the initiator still owes the rest of R2T \(r2t.targetTransferTag)")
        // The initiator ends the sequence early with F (it SHOULD): no more R2Ts, no task, the answer.
        let ended = driver.receive(Self.dataOut(1, ttt: r2t.targetTransferTag, offset: 4096, length: 512, dataSN: 1, final: true))
        #expect(Self.r2ts(ended).isEmpty && Self.executed(ended).isEmpty && Self.rejects(ended).isEmpty)
        #expect(Self.tmfResponses(ended).map(\.response) == [.functionComplete])
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == nil)
    }

    @Test("a LOGICAL UNIT RESET ends a task still draining its R2T data at once, and both functions are answered in order")
    func resetEndsADrainingTask() {
        var driver = Driver()
        let r2t = Self.r2ts(driver.receive(Self.write(1, cmdSN: 1, length: 4096)))[0]
        let abort = driver.receive(Self.taskManagement(.clearTaskSet, tag: 50, cmdSN: 2))
        let (abortID, _, _) = Self.taskManagementRun(abort)!
        #expect(Self.tmfResponses(driver.tmfFinished(abortID)).isEmpty)
        let reset = driver.receive(Self.taskManagement(.logicalUnitReset, tag: 51, cmdSN: 3))
        let (resetID, _, _) = Self.taskManagementRun(reset)!
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == nil)
        let answered = Self.tmfResponses(reset + driver.tmfFinished(resetID))
        #expect(answered.map(\.initiatorTaskTag) == [InitiatorTaskTag(50), InitiatorTaskTag(51)])
        let late = driver.receive(Self.dataOut(1, ttt: r2t.targetTransferTag, offset: 0, length: 4096))
        #expect(Self.executed(late).isEmpty && Self.rejects(late).isEmpty)
    }

    @Test("another nexus's LOGICAL UNIT RESET: the unit's tasks end with TASK ABORTED (TAS = 1), at once or once out of the device server; other units' tasks go on")
    func tasksAbortedByAnotherNexus() {
        var driver = Self.readsOnTwoUnits()
        _ = driver.receive(Self.write(3, cmdSN: 3, length: 4096, lun: 0))  // waits for its R2T's data
        let actions = driver.abortedByAnotherNexus(lun: 0, request: 1)
        #expect(Self.cancels(actions) == 1)
        #expect(Self.responses(actions).map(\.initiatorTaskTag) == [InitiatorTaskTag(3)])
        #expect(Self.responses(actions).map(\.status) == [SCSIStatus.taskAborted.rawValue])
        #expect(driver.machine.stage(of: InitiatorTaskTag(1)) == .abortedByAnotherNexus)
        #expect(driver.machine.stage(of: InitiatorTaskTag(2)) == .executing, "LUN 1 is not reset")
        let ended = Self.responses(driver.finish(1, Self.good))
        #expect(ended.map(\.status) == [SCSIStatus.taskAborted.rawValue], "the device server's GOOD is not what the initiator hears")
        #expect(Self.responses(driver.finish(2, Self.good)).map(\.status) == [SCSIStatus.good.rawValue])
    }

    @Test("ABORT TASK SET is answered only once the initiator has acknowledged the status sent before it, which a NOP-In asks for (§11.6.2 d)")
    func abortTaskSetWaitsForAcknowledgement() {
        var driver = Driver()
        _ = driver.receive(Self.read(1, cmdSN: 1))
        let answered = Self.responses(driver.finish(1, Self.good))
        #expect(answered.map(\.sequence.statSN) == [SequenceNumber(100)], "a status the initiator has not acknowledged yet")
        let abort = driver.receive(Self.taskManagement(.abortTaskSet, tag: 50, cmdSN: 2), acknowledgingStatus: false)
        let (id, _, _) = Self.taskManagementRun(abort)!
        let done = driver.tmfFinished(id)
        #expect(Self.tmfResponses(done).isEmpty, "StatSN 100 is not acknowledged")
        guard case .nopIn(let request) = Self.sent(done).first else {
            Issue.record("expected a NOP-In asking for the acknowledgement")
            return
        }
        #expect(request.targetTransferTag != .reserved && request.initiatorTaskTag == .reserved)

        var answer = NOPOut()
        answer.initiatorTaskTag = .reserved
        answer.targetTransferTag = request.targetTransferTag
        answer.expStatSN = SequenceNumber(100)
        let short = driver.receive(.nopOut(answer), acknowledgingStatus: false)
        #expect(Self.tmfResponses(short).isEmpty, "ExpStatSN 100 still lacks StatSN 100")
        guard case .nopIn(let again) = Self.sent(short).first else {
            Issue.record("expected the NOP-In to be sent again")
            return
        }
        let meanwhile = driver.receive(Self.taskManagement(.abortTask, tag: 51, cmdSN: 2, referenced: 9, refCmdSN: 1), acknowledgingStatus: false)
        #expect(Self.sent(meanwhile).isEmpty, "one NOP-In at a time; the ABORT TASK waits behind the first function")
        answer.targetTransferTag = again.targetTransferTag
        answer.expStatSN = SequenceNumber(101)
        let released = Self.tmfResponses(driver.receive(.nopOut(answer), acknowledgingStatus: false))
        #expect(released.map(\.initiatorTaskTag) == [InitiatorTaskTag(50), InitiatorTaskTag(51)])
    }

    @Test("another nexus's function waits for this session's TASK ABORTED responses to be sent and acknowledged; a lost connection ends the wait")
    func abortByAnotherNexusConcludes() {
        func concluded(_ actions: [Action]) -> [UInt64] {
            actions.compactMap { if case .abortByAnotherNexusConcluded(let request) = $0 { request.rawValue } else { nil } }
        }
        var driver = Self.readsOnTwoUnits()
        let first = driver.abortedByAnotherNexus(lun: 0, request: 7)
        #expect(concluded(first).isEmpty, "read 1 is still in the device server")
        let out = driver.finish(1, Self.good)
        #expect(Self.responses(out).map(\.status) == [SCSIStatus.taskAborted.rawValue])
        #expect(concluded(out).isEmpty, "its TASK ABORTED is not acknowledged yet")
        #expect(Self.sent(out).contains { if case .nopIn(let nop) = $0 { nop.targetTransferTag != .reserved } else { false } })
        #expect(concluded(driver.receive(Self.read(4, cmdSN: 3, lun: 1))) == [7], "a PDU acknowledging it")

        _ = driver.finish(4, Self.good)  // a status the initiator has not acknowledged yet
        let idle = driver.abortedByAnotherNexus(lun: 5, request: 8)
        #expect(concluded(idle) == [8], "it ended nothing of this session: what was sent before is not its concern")
        #expect(Self.sent(idle).isEmpty, "no NOP-In for it")

        _ = driver.abortedByAnotherNexus(lun: nil, request: 9)  // read 2 on LUN 1 and read 4 are out
        #expect(concluded(driver.closed()) == [9], "the connection is gone: nothing more to wait for")
        var late: [Action] = []
        driver.machine.tasksAbortedByAnotherNexus(lun: nil, request: Machine.AbortRequestID(10), actions: &late)
        #expect(concluded(late) == [10], "a closing session concludes at once")
    }

    @Test("task management responses leave in the order the functions arrived")
    func taskManagementResponsesInOrder() {
        var driver = Driver()
        _ = driver.receive(Self.read(1, cmdSN: 1))
        driver.machine.taskStarted(InitiatorTaskTag(1), execution: Self.handle())
        let reset = driver.receive(Self.taskManagement(.abortTaskSet, tag: 50, cmdSN: 2))
        let (id, _, _) = Self.taskManagementRun(reset)!
        // A second function, answerable at once, must wait for the first.
        let second = driver.receive(Self.taskManagement(.abortTask, tag: 51, cmdSN: 3, referenced: 77, refCmdSN: 3))
        #expect(Self.tmfResponses(second).isEmpty)
        _ = driver.finish(1, Self.good)
        let answered = Self.tmfResponses(driver.tmfFinished(id))
        #expect(answered.map(\.initiatorTaskTag) == [InitiatorTaskTag(50), InitiatorTaskTag(51)])
        #expect(answered.map(\.sequence.statSN) == [SequenceNumber(100), SequenceNumber(101)])
    }

    @Test("TARGET COLD RESET: the response is the last PDU, then the connection closes (§11.5.1)")
    func targetColdReset() {
        var driver = Driver()
        let reset = driver.receive(Self.taskManagement(.targetColdReset, tag: 50, cmdSN: 1))
        let (id, function, _) = Self.taskManagementRun(reset)!
        #expect(function == .targetColdReset)
        let done = driver.tmfFinished(id)
        let last = done.first { if case .sendAndClose = $0 { true } else { false } }
        #expect(!done.contains { if case .send = $0 { true } else { false } }, "nothing is sent after it")
        guard case .sendAndClose(.taskManagementResponse(let response)) = last else {
            Issue.record("expected sendAndClose of the TMF response: \(done)")
            return
        }
        #expect(response.response == .functionComplete)
        #expect(driver.machine.isClosing)
    }

    @Test("unknown functions, CLEAR ACA and TASK REASSIGN are refused with the right response code")
    func refusedFunctions() {
        var driver = Driver()
        var unknown = TaskManagementRequest()
        unknown.function = 0x0F
        unknown.initiatorTaskTag = InitiatorTaskTag(50)
        #expect(Self.tmfResponses(driver.receive(.taskManagementRequest(unknown))).map(\.response) == [.functionNotSupported])
        #expect(Self.tmfResponses(driver.receive(Self.taskManagement(.clearACA, tag: 51, cmdSN: 1))).map(\.response) == [.functionNotSupported])
        #expect(Self.tmfResponses(driver.receive(Self.taskManagement(.taskReassign, tag: 52, cmdSN: 2))).map(\.response) == [.taskAllegianceReassignmentNotSupported])
        var discovery = Driver(sessionType: .discovery, hasTarget: false)
        #expect(Self.tmfResponses(discovery.receive(Self.taskManagement(.logicalUnitReset, tag: 50, cmdSN: 1))).map(\.response) == [.functionRejected])
    }

    // MARK: - Task attributes (SAM-5 §8.6)

    @Test("an ORDERED task waits for the unit's earlier task that is still receiving data; HEAD OF QUEUE does not")
    func orderedWaits() {
        var driver = Driver()
        let r2t = Self.r2ts(driver.receive(Self.write(1, cmdSN: 1, length: 1024)))[0]
        #expect(Self.executed(driver.receive(Self.read(2, cmdSN: 2, attribute: .ordered))).isEmpty)
        #expect(driver.machine.stage(of: InitiatorTaskTag(2)) == .heldByOrderedTask)
        #expect(Self.executed(driver.receive(Self.read(3, cmdSN: 3))).isEmpty, "a SIMPLE task after the ORDERED one waits too")
        #expect(Self.executed(driver.receive(Self.read(4, cmdSN: 4, attribute: .headOfQueue))) == [4])
        #expect(Self.executed(driver.receive(Self.read(5, cmdSN: 5, lun: 1))) == [5], "another unit is not held")
        let released = driver.receive(Self.dataOut(1, ttt: r2t.targetTransferTag, offset: 0, length: 1024))
        #expect(Self.executed(released) == [1, 2, 3])
    }

    // MARK: - Text (§11.10)

    @Test("Text: SendTargets is answered; unknown keys are NotUnderstood; declarative keys are Rejected")
    func textAnswers() throws {
        var driver = Driver(sessionType: .discovery, hasTarget: false)
        let actions = driver.receive(Self.text(1, cmdSN: 1, [("SendTargets", "All"), ("X-Vendor", "1"), ("MaxBurstLength", "4096")]))
        guard case .textResponse(let response) = Self.sent(actions).first else {
            Issue.record("expected a Text Response: \(actions)")
            return
        }
        #expect(response.isFinal && !response.continue)
        let text = try TextParameters(decoding: Array(response.data.readableBytesView))
        #expect(text.pairs.filter { $0.key == "TargetName" }.count == 2)
        #expect(text["X-Vendor"] == "NotUnderstood")
        #expect(text["MaxBurstLength"] == "Reject")
    }

    @Test("Text continuation (§11.10.2): a long answer is split at MaxRecvDataSegmentLength and continued on request")
    func textContinuation() throws {
        var parameters = Driver.parameters
        parameters.peerMaxRecvDataSegmentLength = 64
        var driver = Driver(parameters: parameters, sessionType: .discovery, hasTarget: false)
        guard case .textResponse(let first) = Self.sent(driver.receive(Self.text(1, cmdSN: 1, [("SendTargets", "All")]))).first else {
            Issue.record("expected a Text Response")
            return
        }
        #expect(first.continue && !first.isFinal)
        #expect(first.data.readableBytes == 64)
        #expect(first.targetTransferTag != .reserved)

        #expect(Self.rejects(driver.receive(Self.text(1, cmdSN: 2, ttt: TargetTransferTag(0x4242)))).first?.reason == ISCSIRejectReason.invalidPDUField.rawValue)

        var answer = Array(first.data.readableBytesView)
        var ttt = first.targetTransferTag
        var cmdSN: UInt32 = 3
        while true {
            guard case .textResponse(let next) = Self.sent(driver.receive(Self.text(1, cmdSN: cmdSN, ttt: ttt))).first else {
                Issue.record("expected a continuation")
                return
            }
            answer += Array(next.data.readableBytesView)
            cmdSN += 1
            if next.isFinal {
                #expect(!next.continue)
                break
            }
            ttt = next.targetTransferTag
        }
        let text = try TextParameters(decoding: answer)
        #expect(text.pairs.filter { $0.key == "TargetName" }.map(\.value) == ["iqn.2024-01.org.swiftport.test:a", "iqn.2024-01.org.swiftport.test:b"])
    }

    // MARK: - Logout (§11.14)

    @Test("Logout: close the session answers and closes; a wrong CID and recovery removal are refused")
    func logout() {
        var driver = Driver()
        var wrongCID = LogoutRequest()
        wrongCID.reasonCode = LogoutReason.closeConnection.rawValue
        wrongCID.connectionID = 9
        wrongCID.cmdSN = SequenceNumber(1)
        let refused = driver.receive(.logoutRequest(wrongCID))
        #expect(Self.sent(refused).contains { if case .logoutResponse(let r) = $0 { r.response == .cidNotFound } else { false } })
        #expect(!Self.closes(refused))

        var recovery = LogoutRequest()
        recovery.reasonCode = LogoutReason.removeConnectionForRecovery.rawValue
        recovery.cmdSN = SequenceNumber(2)
        #expect(Self.sent(driver.receive(.logoutRequest(recovery))).contains { if case .logoutResponse(let r) = $0 { r.response == .recoveryNotSupported } else { false } })

        var bad = LogoutRequest()
        bad.reasonCode = 9
        bad.cmdSN = SequenceNumber(3)
        #expect(Self.rejects(driver.receive(.logoutRequest(bad))).first?.reason == ISCSIRejectReason.invalidPDUField.rawValue)

        var close = LogoutRequest()
        close.reasonCode = LogoutReason.closeSession.rawValue
        close.cmdSN = SequenceNumber(4)
        let closing = driver.receive(.logoutRequest(close))
        #expect(closing.contains { if case .sendAndClose(.logoutResponse(let r)) = $0 { r.response == .success } else { false } })
        #expect(driver.machine.isClosing)
        #expect(Self.endsSession(closing))
    }

    // MARK: - NOP (§11.18, §11.19)

    @Test("a NOP-Out with a task tag is echoed in a NOP-In that consumes a StatSN")
    func nopEcho() {
        var driver = Driver()
        var nop = NOPOut()
        nop.initiatorTaskTag = InitiatorTaskTag(5)
        nop.immediate = false
        nop.cmdSN = SequenceNumber(1)
        nop.data = ByteBuffer(bytes: [1, 2, 3])
        guard case .nopIn(let reply) = Self.sent(driver.receive(.nopOut(nop))).first else {
            Issue.record("expected a NOP-In")
            return
        }
        #expect(reply.initiatorTaskTag == InitiatorTaskTag(5))
        #expect(reply.data == ByteBuffer(bytes: [1, 2, 3]))
        #expect(reply.sequence.statSN == SequenceNumber(100))
        #expect(driver.machine.status?.statSN == SequenceNumber(101))
    }

    @Test("keepalive: an idle connection is pinged; an answered ping clears; an unanswered one closes")
    func keepalive() {
        var driver = Driver()
        let heard = driver.now
        #expect(driver.ping(after: 5, lastHeard: heard).isEmpty, "not idle long enough")
        guard case .nopIn(let ping) = Self.sent(driver.ping(after: 6, lastHeard: heard)).first else {
            Issue.record("expected a NOP-In ping")
            return
        }
        #expect(ping.targetTransferTag != .reserved && ping.initiatorTaskTag == .reserved)
        #expect(driver.machine.status?.statSN == SequenceNumber(100), "a ping consumes no StatSN")

        var answer = NOPOut()
        answer.initiatorTaskTag = .reserved
        answer.targetTransferTag = ping.targetTransferTag
        #expect(driver.receive(.nopOut(answer)).isEmpty, "the answer gets no response")
        #expect(!Self.closes(driver.ping(after: 6, lastHeard: driver.now)))

        let second = driver.ping(after: 11, lastHeard: heard)
        #expect(Self.sent(second).count == 1)
        #expect(Self.closes(driver.ping(after: 6, lastHeard: heard)), "past the 5 s timeout")
        #expect(driver.machine.isClosing)
    }

    // MARK: - Connection loss (§7.1.4)

    @Test("a lost connection cancels the tasks in the device server; the session ends only when they are back")
    func connectionLoss() {
        var driver = Driver()
        _ = driver.receive(Self.read(1, cmdSN: 1))
        _ = driver.receive(Self.write(2, cmdSN: 2, length: 1024))  // waits for data
        driver.machine.taskStarted(InitiatorTaskTag(1), execution: Self.handle())
        let closed = driver.closed()
        #expect(Self.cancels(closed) == 1)
        #expect(!Self.endsSession(closed))
        #expect(driver.machine.tasksInDeviceServer == 1)
        let back = driver.finish(1, Self.good)
        #expect(Self.sent(back).isEmpty, "no response on a closed connection")
        #expect(Self.endsSession(back))
    }
}

import ISCSIProtocol
import ISCSISession
import NIOCore
import Testing

/// The initiator role of login, alone and against `TargetLoginStateMachine`
/// (STYLE.md §7 layer 2: an initiator-role and a target-role machine run against each other).
@Suite("InitiatorLoginStateMachine")
struct InitiatorLoginStateMachineTests {
    typealias F = LoginFixture
    typealias Initiator = InitiatorLoginStateMachine

    /// Different from the target's bytes so mutual CHAP challenges never collide.
    static let initiatorRandom: @Sendable (Int) -> [UInt8] = { count in (0..<count).map { UInt8(truncatingIfNeeded: 0xF0 &+ $0) } }
    static let assignedTSIH = TSIH(0x0102)

    static func initiator(
        target: String? = F.targetName, authentication: Initiator.Authentication = .none, policy: NegotiationPolicy = NegotiationPolicy()
    ) -> Initiator {
        Initiator(
            configuration: .init(
                initiatorName: F.initiatorName, initiatorAlias: "host", targetName: target, isid: F.isid, connectionID: 1,
                initiatorTaskTag: InitiatorTaskTag(0x10), cmdSN: SequenceNumber(1), authentication: authentication, policy: policy),
            randomBytes: initiatorRandom)
    }

    /// A PDU through the real encoder and framer, as it would cross a socket.
    static func overTheWire(_ pdu: ISCSIPDU) throws -> ISCSIPDU {
        let settings = ISCSIFramingSettings()
        let frame = ISCSIPDUEncoder.encode(pdu.message, settings: settings)
        var bytes = frame.header
        if var data = frame.data { bytes.writeBuffer(&data) }
        if var trailer = frame.trailer { bytes.writeBuffer(&trailer) }
        guard case .pdu(let decoded) = try #require(try ISCSIPDUFramer.decodeFrame(from: &bytes, settings: settings)) else {
            throw CancellationError()
        }
        return decoded
    }

    /// The outcome of pumping PDUs between the two machines.
    struct Exchange {
        var initiator: Initiator.Action
        var lastTarget: TargetLoginStateMachine.Action?
        var requests: [LoginRequest] = []
        var responses: [LoginResponse] = []
    }

    /// Runs both machines until the initiator stops sending; assigns a TSIH to the
    /// final response as the transport does.
    static func pump(_ initiator: inout Initiator, _ target: inout TargetLoginStateMachine) throws -> Exchange {
        var exchange = Exchange(initiator: initiator.start())
        while case .sendRequest(let request) = exchange.initiator {
            guard exchange.requests.count < 20 else {
                Issue.record("the login does not converge")
                break
            }
            guard case .loginRequest(let received) = try overTheWire(.loginRequest(request)) else {
                Issue.record("not a login request")
                break
            }
            exchange.requests.append(received)
            let targetAction = target.receive(received)
            exchange.lastTarget = targetAction
            var response = targetAction.response
            if case .complete = targetAction { response.tsih = assignedTSIH }
            guard case .loginResponse(let delivered) = try overTheWire(.loginResponse(response)) else {
                Issue.record("not a login response")
                break
            }
            exchange.responses.append(delivered)
            exchange.initiator = initiator.receive(delivered)
        }
        return exchange
    }

    @Test("no authentication: both sides agree on the parameters")
    func noAuthentication() throws {
        var initiator = Self.initiator()
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        guard case .complete(let parameters, let tsih) = exchange.initiator else {
            Issue.record("expected completion, got \(exchange.initiator)")
            return
        }
        let result = try #require(exchange.lastTarget?.result)
        #expect(tsih == Self.assignedTSIH)
        #expect(exchange.requests.count == 2)
        #expect(exchange.requests.map(\.currentStage) == [.securityNegotiation, .operationalNegotiation])
        #expect(exchange.requests.map(\.transit) == [true, true])
        #expect(exchange.requests.map(\.expStatSN) == [SequenceNumber(0), SequenceNumber(1)])
        #expect(initiator.expStatSN == SequenceNumber(2))
        #expect(result.nextStatSN == initiator.expStatSN)
        #expect(initiator.targetPortalGroupTag == 7)
        #expect(initiator.targetAlias == "disk")
        #expect(initiator.isFinished && target.isFinished)
        #expect(result.initiatorAlias == "host")

        // Each side's view of the other mirrors its own.
        #expect(parameters.peerMaxRecvDataSegmentLength == result.parameters.localMaxRecvDataSegmentLength)
        #expect(parameters.localMaxRecvDataSegmentLength == result.parameters.peerMaxRecvDataSegmentLength)
        for keyPath: KeyPath<OperationalParameters, Int> in [\.maxBurstLength, \.firstBurstLength, \.maxOutstandingR2T, \.errorRecoveryLevel, \.defaultTime2Wait, \.defaultTime2Retain, \.maxConnections] {
            #expect(parameters[keyPath: keyPath] == result.parameters[keyPath: keyPath])
        }
        for keyPath: KeyPath<OperationalParameters, Bool> in [\.headerDigest, \.dataDigest, \.initialR2T, \.immediateData, \.dataPDUInOrder, \.dataSequenceInOrder] {
            #expect(parameters[keyPath: keyPath] == result.parameters[keyPath: keyPath])
        }
    }

    @Test("policies meet: digests, bursts and R2T settings")
    func policiesMeet() throws {
        var initiatorPolicy = NegotiationPolicy()
        initiatorPolicy.headerDigests = ["CRC32C", "None"]
        initiatorPolicy.dataDigests = ["CRC32C"]
        initiatorPolicy.maxBurstLength = 131_072
        initiatorPolicy.firstBurstLength = 65536
        initiatorPolicy.initialR2T = true
        initiatorPolicy.maxRecvDataSegmentLength = 32768
        var initiator = Self.initiator(policy: initiatorPolicy)
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        guard case .complete(let parameters, _) = exchange.initiator else {
            Issue.record("expected completion, got \(exchange.initiator)")
            return
        }
        let result = try #require(exchange.lastTarget?.result)
        #expect(parameters.headerDigest && parameters.dataDigest)
        #expect(result.parameters.headerDigest && result.parameters.dataDigest)
        #expect(parameters.maxBurstLength == 131_072 && result.parameters.maxBurstLength == 131_072)
        #expect(parameters.firstBurstLength == 65536 && result.parameters.firstBurstLength == 65536)
        #expect(parameters.initialR2T && result.parameters.initialR2T, "OR: one Yes makes it Yes")
        #expect(result.parameters.peerMaxRecvDataSegmentLength == 32768)
    }

    @Test("discovery session")
    func discovery() throws {
        var initiator = Self.initiator(target: nil)
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        guard case .complete = exchange.initiator else {
            Issue.record("expected completion, got \(exchange.initiator)")
            return
        }
        let first = try TextParameters(decoding: Array(exchange.requests[0].data.readableBytesView))
        #expect(first["SessionType"] == "Discovery")
        #expect(first["TargetName"] == nil)
        #expect(exchange.lastTarget?.result?.sessionType == .discovery)
        #expect(initiator.targetPortalGroupTag == nil)
    }

    @Test("one-way CHAP", arguments: [[CHAPAlgorithm.md5], [.sha256], [.sha3_256, .md5], [.sha1]])
    func oneWayCHAP(algorithms: [CHAPAlgorithm]) throws {
        var initiator = Self.initiator(target: F.chapTargetName, authentication: .chap(F.oneWay, algorithms: algorithms))
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        guard case .complete(_, let tsih) = exchange.initiator else {
            Issue.record("expected completion, got \(exchange.initiator)")
            return
        }
        #expect(tsih == Self.assignedTSIH)
        // AuthMethod, CHAP_A, CHAP_N/CHAP_R, then the operational stage.
        #expect(exchange.requests.count == 4)
        let chapA = try TextParameters(decoding: Array(exchange.requests[1].data.readableBytesView))
        #expect(chapA["CHAP_A"] == algorithms.map { String($0.rawValue) }.joined(separator: ","))
        let challenge = try TextParameters(decoding: Array(exchange.responses[1].data.readableBytesView))
        #expect(challenge["CHAP_A"] == String(algorithms[0].rawValue))
        #expect(initiator.targetPortalGroupTag == 2)
    }

    @Test("mutual CHAP: the initiator checks the target's answer")
    func mutualCHAP() throws {
        var initiator = Self.initiator(target: F.mutualTargetName, authentication: .chap(F.mutual, algorithms: [.sha256]))
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        guard case .complete = exchange.initiator else {
            Issue.record("expected completion, got \(exchange.initiator)")
            return
        }
        let answer = try TextParameters(decoding: Array(exchange.requests[2].data.readableBytesView))
        #expect(answer["CHAP_I"] == "240")
        #expect(answer["CHAP_C"] == CHAPBinary.encode((0..<32).map { 0xF0 &+ UInt8($0) }))
    }

    @Test("mutual CHAP: a target that does not know our mutual secret is refused")
    func mutualWrongTargetSecret() throws {
        var credentials = F.mutual
        credentials.mutualSecret = "what-we-expect-1"
        var initiator = Self.initiator(target: F.mutualTargetName, authentication: .chap(credentials, algorithms: [.md5]))
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        guard case .failed(.targetAuthenticationFailed) = exchange.initiator else {
            Issue.record("expected a target authentication failure, got \(exchange.initiator)")
            return
        }
        #expect(initiator.isFinished)
    }

    @Test("mutual CHAP: a target answering under another name is refused")
    func mutualWrongTargetName() throws {
        var credentials = F.mutual
        credentials.mutualUsername = "someone-else"
        var initiator = Self.initiator(target: F.mutualTargetName, authentication: .chap(credentials, algorithms: [.md5]))
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        guard case .failed(.targetAuthenticationFailed) = exchange.initiator else {
            Issue.record("expected a target authentication failure, got \(exchange.initiator)")
            return
        }
    }

    @Test("target refusals reach the initiator as statuses", arguments: [
        (F.chapTargetName, Initiator.Authentication.chap(CHAPCredentials(username: "alice", secret: "wrong-secret-123"), algorithms: [.md5]), ISCSILoginStatus.authenticationFailure),
        (F.chapTargetName, .none, .authenticationFailure),
        (F.mutualTargetName, .chap(CHAPCredentials(username: "bob", secret: "bob-secret-1234"), algorithms: [.md5]), .authenticationFailure),
        ("iqn.2024-01.org.swiftport.test:missing", .none, .notFound),
        (F.aclTargetName, .none, .authorizationFailure),
    ])
    func refusals(target name: String, authentication: Initiator.Authentication, status: ISCSILoginStatus) throws {
        var initiator = Self.initiator(target: name, authentication: authentication)
        var target = F.machine()
        let exchange = try Self.pump(&initiator, &target)
        #expect(exchange.initiator == .failed(.status(status, targetAddress: nil)))
        if case .failAndClose = exchange.lastTarget {} else { Issue.record("the target should close, did \(String(describing: exchange.lastTarget))") }
        #expect(initiator.isFinished)
    }

    // MARK: - The initiator alone

    /// A response echoing the request's identity fields.
    static func response(to request: LoginRequest, stage: LoginStage, next: LoginStage? = nil, statSN: UInt32 = 0,
                         tsih: TSIH = .new, continue: Bool = false, _ pairs: [(String, String)]) -> LoginResponse {
        var response = LoginResponse()
        response.transit = next != nil
        response.continue = `continue`
        response.currentStage = stage
        response.nextStage = next ?? stage
        response.isid = request.isid
        response.tsih = tsih
        response.initiatorTaskTag = request.initiatorTaskTag
        response.sequence = StatusSequence(statSN: SequenceNumber(statSN), expCmdSN: request.cmdSN, maxCmdSN: request.cmdSN.advanced(by: 31))
        response.data = ByteBuffer(bytes: TextParameters(pairs).encoded)
        return response
    }

    static func request(_ action: Initiator.Action) throws -> LoginRequest {
        guard case .sendRequest(let request) = action else {
            Issue.record("expected a request, got \(action)")
            throw CancellationError()
        }
        return request
    }

    /// Starts a no-auth login and moves it into the operational stage.
    static func inOperationalStage() throws -> (Initiator, LoginRequest) {
        var initiator = Self.initiator()
        let first = try request(initiator.start())
        let second = try request(initiator.receive(response(to: first, stage: .securityNegotiation, next: .operationalNegotiation,
                                                             [("AuthMethod", "None"), ("TargetPortalGroupTag", "1")])))
        #expect(second.currentStage == .operationalNegotiation)
        #expect(second.nextStage == .fullFeaturePhase)
        return (initiator, second)
    }

    @Test("the first request carries names and AuthMethod and asks for the operational stage")
    func firstRequest() throws {
        var initiator = Self.initiator(authentication: .none)
        let first = try Self.request(initiator.start())
        #expect(first.currentStage == .securityNegotiation && first.transit && first.nextStage == .operationalNegotiation)
        #expect(first.tsih == .new && first.isid == F.isid && first.connectionID == 1)
        let text = try TextParameters(decoding: Array(first.data.readableBytesView))
        #expect(text == TextParameters([("InitiatorName", F.initiatorName), ("InitiatorAlias", "host"), ("TargetName", F.targetName), ("AuthMethod", "None")]))
        #expect(initiator.start() == .failed(.protocolError("start() called twice")))
    }

    @Test("answers that break the result function fail the login", arguments: [
        ("MaxBurstLength", "2097152"),  // minimum: larger than offered
        ("DefaultTime2Wait", "1"),  // maximum: smaller than offered
        ("HeaderDigest", "MD5"),  // list: not offered
        ("ImmediateData", "Maybe"),
        ("DataPDUInOrder", "No"),  // OR: our Yes cannot become No
        ("ErrorRecoveryLevel", "7"),
        ("MaxRecvDataSegmentLength", "100"),
    ])
    func illegalAnswers(key: String, value: String) throws {
        let setup = try Self.inOperationalStage()
        var initiator = setup.0
        let offers = setup.1
        let action = initiator.receive(Self.response(to: offers, stage: .operationalNegotiation, next: .fullFeaturePhase, statSN: 1, tsih: TSIH(5), [(key, value)]))
        guard case .failed(.protocolError) = action else {
            Issue.record("expected a protocol error, got \(action)")
            return
        }
    }

    @Test("Reject and NotUnderstood answers keep the defaults")
    func rejectedKeepsDefault() throws {
        let setup = try Self.inOperationalStage()
        var initiator = setup.0
        let offers = setup.1
        let action = initiator.receive(Self.response(to: offers, stage: .operationalNegotiation, next: .fullFeaturePhase, statSN: 1, tsih: TSIH(5),
                                                     [("MaxBurstLength", "Reject"), ("ImmediateData", "NotUnderstood"), ("FirstBurstLength", "4096")]))
        guard case .complete(let parameters, let tsih) = action else {
            Issue.record("expected completion, got \(action)")
            return
        }
        #expect(tsih == TSIH(5))
        #expect(parameters.maxBurstLength == OperationalParameters().maxBurstLength)
        #expect(parameters.immediateData == OperationalParameters().immediateData)
        #expect(parameters.firstBurstLength == 4096)
    }

    @Test("a final response without a TSIH is a protocol error")
    func finalWithoutTSIH() throws {
        let setup = try Self.inOperationalStage()
        var initiator = setup.0
        let offers = setup.1
        let action = initiator.receive(Self.response(to: offers, stage: .operationalNegotiation, next: .fullFeaturePhase, statSN: 1, []))
        #expect(action == .failed(.protocolError("the final Login Response has TSIH 0")))
    }

    @Test("the target may not skip to Full Feature Phase from the security stage")
    func stageSkip() throws {
        var initiator = Self.initiator()
        let first = try Self.request(initiator.start())
        let action = initiator.receive(Self.response(to: first, stage: .securityNegotiation, next: .fullFeaturePhase, [("AuthMethod", "None")]))
        guard case .failed(.protocolError) = action else {
            Issue.record("expected a protocol error, got \(action)")
            return
        }
    }

    @Test("a redirection reports where to go")
    func redirection() throws {
        var initiator = Self.initiator()
        let first = try Self.request(initiator.start())
        var response = Self.response(to: first, stage: .securityNegotiation, [("TargetAddress", "192.0.2.9:3260,1")])
        response.status = .targetMovedTemporarily
        #expect(initiator.receive(response) == .failed(.status(.targetMovedTemporarily, targetAddress: "192.0.2.9:3260,1")))
    }

    @Test("target text with the Continue bit is collected before it is read")
    func targetContinue() throws {
        var initiator = Self.initiator()
        let first = try Self.request(initiator.start())
        let whole = TextParameters([("AuthMethod", "None"), ("TargetPortalGroupTag", "3")]).encoded
        var part1 = Self.response(to: first, stage: .securityNegotiation, continue: true, [])
        part1.data = ByteBuffer(bytes: whole[..<8])
        let empty = try Self.request(initiator.receive(part1))
        #expect(empty.data.readableBytes == 0)
        #expect(!empty.transit)
        #expect(empty.expStatSN == SequenceNumber(1))
        var part2 = Self.response(to: first, stage: .securityNegotiation, next: .operationalNegotiation, statSN: 1, [])
        part2.data = ByteBuffer(bytes: whole[8...])
        let offers = try Self.request(initiator.receive(part2))
        #expect(offers.currentStage == .operationalNegotiation)
        #expect(initiator.targetPortalGroupTag == 3)
    }

    @Test("a target that keeps the login in one stage gives up after a bound")
    func nonConverging() throws {
        var (initiator, request) = try Self.inOperationalStage()
        var statSN: UInt32 = 1
        var action = Initiator.Action.sendRequest(request)
        while case .sendRequest(let current) = action {
            request = current
            action = initiator.receive(Self.response(to: request, stage: .operationalNegotiation, statSN: statSN, []))
            statSN += 1
            if statSN > 100 { break }
        }
        guard case .failed(.protocolError) = action else {
            Issue.record("expected a protocol error, got \(action)")
            return
        }
        #expect(statSN <= UInt32(Initiator.maximumExchanges) + 1)
    }

    @Test("a key the target offered in the security stage is not offered again (§6.2)")
    func noDuplicateOffer() throws {
        var initiator = Self.initiator()
        let first = try Self.request(initiator.start())
        let second = try Self.request(initiator.receive(Self.response(
            to: first, stage: .securityNegotiation, next: .operationalNegotiation,
            [("AuthMethod", "None"), ("TargetPortalGroupTag", "1"), ("MaxBurstLength", "65536")])))
        let text = try TextParameters(decoding: Array(second.data.readableBytesView))
        #expect(text.duplicateKeys.isEmpty)
        #expect(text.pairs.filter { $0.key == "MaxBurstLength" }.map(\.value) == ["65536"])
        #expect(text["InitialR2T"] != nil)
    }

    @Test("the target's own offers are answered in the next request")
    func targetOffers() throws {
        let setup = try Self.inOperationalStage()
        var initiator = setup.0
        let offers = setup.1
        let next = try Self.request(initiator.receive(Self.response(to: offers, stage: .operationalNegotiation, statSN: 1,
                                                                    [("MaxBurstLength", "65536"), ("X-com.example.Feature", "On")])))
        let text = try TextParameters(decoding: Array(next.data.readableBytesView))
        #expect(text["X-com.example.Feature"] == "NotUnderstood")
        #expect(next.transit && next.nextStage == .fullFeaturePhase)
        let done = initiator.receive(Self.response(to: next, stage: .operationalNegotiation, next: .fullFeaturePhase, statSN: 2, tsih: TSIH(9), []))
        guard case .complete(let parameters, _) = done else {
            Issue.record("expected completion, got \(done)")
            return
        }
        #expect(parameters.maxBurstLength == 65536)
    }
}

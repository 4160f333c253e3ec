import ISCSIProtocol
import ISCSISession
import NIOCore
import Testing

/// The target side of login (RFC 7143 §6.3, §11.12-§11.13, §12.1.3), driven one
/// Login Request at a time.
@Suite("TargetLoginStateMachine")
struct TargetLoginStateMachineTests {
    typealias F = LoginFixture

    static let operationalKeys: [(String, String)] = [
        ("HeaderDigest", "None"), ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "65536"),
        ("MaxBurstLength", "262144"), ("FirstBurstLength", "65536"), ("InitialR2T", "Yes"),
        ("ImmediateData", "Yes"), ("ErrorRecoveryLevel", "0"), ("MaxOutstandingR2T", "1"),
    ]

    @Test("no authentication: security → operational → Full Feature Phase")
    func noAuthentication() throws {
        var machine = F.machine()
        let first = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, [
            ("InitiatorName", F.initiatorName), ("InitiatorAlias", "host"), ("TargetName", F.targetName),
            ("SessionType", "Normal"), ("AuthMethod", "None"),
        ]))
        #expect(first.isSendResponse)
        let firstResponse = first.response
        #expect(firstResponse.status == .success)
        #expect(firstResponse.transit)
        #expect(firstResponse.currentStage == .securityNegotiation)
        #expect(firstResponse.nextStage == .operationalNegotiation)
        #expect(firstResponse.isid == F.isid)
        #expect(firstResponse.initiatorTaskTag == InitiatorTaskTag(0x10))
        #expect(firstResponse.sequence.statSN == SequenceNumber(0))
        #expect(firstResponse.sequence.expCmdSN == SequenceNumber(1))
        #expect(firstResponse.sequence.maxCmdSN == SequenceNumber(32))
        let firstText = F.text(firstResponse)
        #expect(firstText["AuthMethod"] == "None")
        #expect(firstText["TargetPortalGroupTag"] == "7", "§13.9: in the first Login Response of a normal session")
        #expect(firstText["TargetAlias"] == "disk")

        let second = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, Self.operationalKeys))
        guard case .complete(let response, let result) = second else {
            Issue.record("expected completion, got \(second)")
            return
        }
        #expect(response.status == .success)
        #expect(response.transit && response.currentStage == .operationalNegotiation && response.nextStage == .fullFeaturePhase)
        #expect(response.sequence.statSN == SequenceNumber(1))
        let text = F.text(response)
        #expect(text["MaxRecvDataSegmentLength"] == String(NegotiationPolicy().maxRecvDataSegmentLength))
        #expect(text["TargetPortalGroupTag"] == nil, "sent only once")
        #expect(text["HeaderDigest"] == "None")
        #expect(text["MaxBurstLength"] == "262144")
        #expect(text["InitialR2T"] == "Yes")
        #expect(result.initiatorName == F.initiatorName)
        #expect(result.initiatorAlias == "host")
        #expect(result.targetName == F.targetName)
        #expect(result.sessionType == .normal)
        #expect(result.isid == F.isid)
        #expect(result.requestedTSIH == .new)
        #expect(result.connectionID == 1)
        #expect(result.expectedCmdSN == SequenceNumber(1))
        #expect(result.nextStatSN == SequenceNumber(2))
        #expect(result.parameters.peerMaxRecvDataSegmentLength == 65536)
        #expect(result.parameters.maxBurstLength == 262_144)
        #expect(result.parameters.firstBurstLength == 65536)
        #expect(result.parameters.initialR2T)
        #expect(result.initiatorPortName == "\(F.initiatorName),i,0x400001370001")
        #expect(machine.isFinished)
    }

    @Test("a login may start directly in the operational stage (CSG=1)")
    func directOperationalStart() throws {
        var machine = F.machine()
        let action = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase,
            [("InitiatorName", F.initiatorName), ("TargetName", F.targetName)] + Self.operationalKeys))
        let result = try #require(action.result)
        #expect(result.targetName == F.targetName)
        let text = F.text(action.response)
        #expect(text["TargetPortalGroupTag"] == "7")
        #expect(text["MaxRecvDataSegmentLength"] != nil)
    }

    @Test("the operational stage may take several exchanges before transit")
    func operationalWithoutTransit() throws {
        var machine = F.machine()
        let first = machine.receive(F.request(.operationalNegotiation, [("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("MaxBurstLength", "65536")]))
        #expect(first.isSendResponse)
        #expect(!first.response.transit)
        #expect(F.text(first.response)["MaxBurstLength"] == "65536")
        let second = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, [("FirstBurstLength", "8192")]))
        #expect(try #require(second.result).parameters.maxBurstLength == 65536)
    }

    /// Runs a CHAP login through the security stage; returns the action answering CHAP_R.
    private func chapLogin(
        _ machine: inout TargetLoginStateMachine, target: String, algorithms: String, secret: String,
        mutualChallenge: (identifier: UInt8, challenge: [UInt8])? = nil, reflect: Bool = false
    ) throws -> TargetLoginStateMachine.Action {
        let offer = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, [
            ("InitiatorName", F.initiatorName), ("TargetName", target), ("AuthMethod", "CHAP,None"),
        ]))
        #expect(offer.isSendResponse)
        #expect(F.text(offer.response)["AuthMethod"] == "CHAP")
        #expect(!offer.response.transit, "no leaving the security stage before CHAP succeeds")

        let challengeAction = machine.receive(F.request(.securityNegotiation, [("CHAP_A", algorithms)]))
        #expect(challengeAction.isSendResponse)
        let challenge = F.text(challengeAction.response)
        var pairs: [(String, String)] = [("CHAP_N", target == F.chapTargetName ? F.oneWay.username : F.mutual.username),
                                         ("CHAP_R", try #require(F.chapResponse(to: challenge, secret: secret)))]
        if let mutualChallenge {
            pairs.append(("CHAP_I", String(mutualChallenge.identifier)))
            pairs.append(("CHAP_C", reflect ? try #require(challenge["CHAP_C"]) : CHAPBinary.encode(mutualChallenge.challenge)))
        }
        return machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, pairs))
    }

    @Test("one-way CHAP succeeds", arguments: [("5", CHAPAlgorithm.md5), ("7", .sha256), ("7,5", .sha256), ("99,5", .md5)])
    func oneWayCHAP(offer: String, algorithm: CHAPAlgorithm) throws {
        var machine = F.machine()
        _ = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, [
            ("InitiatorName", F.initiatorName), ("TargetName", F.chapTargetName), ("AuthMethod", "CHAP"),
        ]))
        let challengeAction = machine.receive(F.request(.securityNegotiation, [("CHAP_A", offer)]))
        let challenge = F.text(challengeAction.response)
        #expect(challenge["CHAP_A"] == String(algorithm.rawValue))
        #expect(challenge["CHAP_I"] == "1")
        #expect(challenge["CHAP_C"] == CHAPBinary.encode((1...algorithm.challengeLength).map(UInt8.init)))
        let answer = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, [
            ("CHAP_N", "alice"), ("CHAP_R", try #require(F.chapResponse(to: challenge, secret: F.oneWay.secret))),
        ]))
        #expect(answer.isSendResponse)
        #expect(answer.response.transit)
        #expect(answer.response.nextStage == .operationalNegotiation)
        let done = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, Self.operationalKeys))
        #expect(done.result?.targetName == F.chapTargetName)
    }

    @Test("CHAP with the wrong secret fails with 0x0201")
    func wrongSecret() throws {
        var machine = F.machine()
        let action = try chapLogin(&machine, target: F.chapTargetName, algorithms: "5", secret: "not-the-secret")
        #expect(action.failureStatus == .authenticationFailure)
        #expect(machine.isFinished)
    }

    @Test("CHAP with the wrong user name fails with 0x0201")
    func wrongName() throws {
        var machine = F.machine()
        _ = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, [
            ("InitiatorName", F.initiatorName), ("TargetName", F.chapTargetName), ("AuthMethod", "CHAP"),
        ]))
        let challenge = F.text(machine.receive(F.request(.securityNegotiation, [("CHAP_A", "5")])).response)
        let action = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, [
            ("CHAP_N", "mallory"), ("CHAP_R", try #require(F.chapResponse(to: challenge, secret: F.oneWay.secret))),
        ]))
        #expect(action.failureStatus == .authenticationFailure)
    }

    @Test("mutual CHAP: the target proves its own secret")
    func mutualCHAP() throws {
        var machine = F.machine()
        let mutualChallenge: [UInt8] = (0..<16).map { 0xA0 &+ UInt8($0) }
        let action = try chapLogin(&machine, target: F.mutualTargetName, algorithms: "7", secret: F.mutual.secret,
                                   mutualChallenge: (identifier: 42, challenge: mutualChallenge))
        #expect(action.isSendResponse)
        let text = F.text(action.response)
        #expect(text["CHAP_N"] == "target-bob")
        let expected = CHAPAlgorithm.sha256.response(identifier: 42, secret: "target-secret-9", challenge: mutualChallenge)
        #expect(text["CHAP_R"].flatMap(CHAPBinary.decode) == expected)
        #expect(action.response.transit)
    }

    @Test("mutual CHAP refuses a reflected challenge (§12.1.3)")
    func reflectedChallenge() throws {
        var machine = F.machine()
        let action = try chapLogin(&machine, target: F.mutualTargetName, algorithms: "5", secret: F.mutual.secret,
                                   mutualChallenge: (identifier: 1, challenge: []), reflect: true)
        #expect(action.failureStatus == .authenticationFailure)
    }

    @Test("mutual CHAP is required when the target is configured for it")
    func mutualRequired() throws {
        var machine = F.machine()
        let action = try chapLogin(&machine, target: F.mutualTargetName, algorithms: "5", secret: F.mutual.secret)
        #expect(action.failureStatus == .authenticationFailure)
    }

    @Test("CHAP required but the initiator skips the security stage → 0x0201")
    func skippedSecurity() {
        var machine = F.machine()
        let action = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase,
            [("InitiatorName", F.initiatorName), ("TargetName", F.chapTargetName)] + Self.operationalKeys))
        #expect(action.failureStatus == .authenticationFailure)
    }

    @Test("CHAP required but the initiator offers only None → 0x0201")
    func offersOnlyNone() {
        var machine = F.machine()
        let action = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation,
            [("InitiatorName", F.initiatorName), ("TargetName", F.chapTargetName), ("AuthMethod", "None")]))
        #expect(action.failureStatus == .authenticationFailure)
    }

    @Test("first-request failures map to RFC 7143 §11.13.5 statuses", arguments: [
        ([("InitiatorName", F.initiatorName), ("AuthMethod", "None")], ISCSILoginStatus.missingParameter),
        ([("TargetName", F.targetName), ("AuthMethod", "None")], .missingParameter),
        ([("InitiatorName", F.initiatorName), ("TargetName", "iqn.2024-01.org.swiftport.test:nope")], .notFound),
        ([("InitiatorName", F.initiatorName), ("TargetName", F.aclTargetName)], .authorizationFailure),
        ([("InitiatorName", F.initiatorName), ("TargetName", F.fencedTargetName)], .authorizationFailure),
        ([("InitiatorName", F.initiatorName), ("SessionType", "Weird")], .sessionTypeNotSupported),
        ([("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("MaxBurstLength", "65536"), ("MaxBurstLength", "65536")], .initiatorError),
        ([("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("SendTargets", "All")], .initiatorError),
    ])
    func firstRequestFailures(pairs: [(String, String)], status: ISCSILoginStatus) {
        var machine = F.machine()
        let action = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, pairs))
        #expect(action.failureStatus == status)
        #expect(!action.response.transit)
        #expect(machine.isFinished)
    }

    @Test("an unsupported version fails with 0x0205")
    func unsupportedVersion() {
        var machine = F.machine()
        var request = F.request(.securityNegotiation, next: .operationalNegotiation, [("InitiatorName", F.initiatorName), ("TargetName", F.targetName)])
        request.versionMin = 1
        request.versionMax = 2
        #expect(machine.receive(request).failureStatus == .unsupportedVersion)
    }

    @Test("malformed text fails with 0x0200")
    func malformedText() {
        var machine = F.machine()
        let action = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, data: Array("InitiatorName\0".utf8)))
        #expect(action.failureStatus == .initiatorError)
    }

    @Test("discovery session: no TargetName, no TargetPortalGroupTag")
    func discovery() throws {
        var machine = F.machine()
        let first = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation,
            [("InitiatorName", F.initiatorName), ("SessionType", "Discovery"), ("AuthMethod", "None")]))
        #expect(first.isSendResponse)
        #expect(F.text(first.response)["TargetPortalGroupTag"] == nil)
        let done = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, [("HeaderDigest", "None"), ("MaxRecvDataSegmentLength", "32768")]))
        let result = try #require(done.result)
        #expect(result.sessionType == .discovery)
        #expect(result.targetName == nil)
    }

    @Test("discovery CHAP is enforced when configured")
    func discoveryCHAP() throws {
        var machine = F.machine(discoveryCredentials: F.oneWay)
        let skip = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase,
            [("InitiatorName", F.initiatorName), ("SessionType", "Discovery")]))
        #expect(skip.failureStatus == .authenticationFailure)
    }

    @Test("text split across two PDUs with the Continue bit (§6.3)")
    func continueBit() throws {
        var machine = F.machine()
        let whole = TextParameters([("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("AuthMethod", "None")]).encoded
        let split = 20  // inside the InitiatorName value
        let first = machine.receive(F.request(.securityNegotiation, continue: true, data: Array(whole[..<split])))
        #expect(first.isSendResponse)
        #expect(first.response.data.readableBytes == 0)
        #expect(!first.response.transit)
        #expect(!machine.isFinished)
        let second = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, data: Array(whole[split...])))
        #expect(second.isSendResponse)
        #expect(second.response.transit)
        let text = F.text(second.response)
        #expect(text["AuthMethod"] == "None")
        #expect(text["TargetPortalGroupTag"] == "7")
        #expect(second.response.sequence.statSN == SequenceNumber(1))
    }

    @Test("Continue and Transit together are an initiator error")
    func continueAndTransit() {
        var machine = F.machine()
        let action = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, continue: true, [("InitiatorName", F.initiatorName)]))
        #expect(action.failureStatus == .initiatorError)
    }

    @Test("T=1 with the reserved NSG value 2 fails with 0x0200 (RFC 7143 §11.12.3)")
    func reservedNextStage() {
        var machine = F.machine()
        var request = F.request(.securityNegotiation, next: .operationalNegotiation,
                                [("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("AuthMethod", "None")])
        request.nextStage = nil  // the wire value 2
        #expect(machine.receive(request).failureStatus == .initiatorError)
        #expect(machine.isFinished)
    }

    @Test("an ISID change mid-login fails with 0x0200")
    func isidChange() {
        var machine = F.machine()
        _ = machine.receive(F.request(.securityNegotiation, [("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("AuthMethod", "None")]))
        let action = machine.receive(F.request(.securityNegotiation, next: .operationalNegotiation, isid: ISID(rawValue: 0x4000_0137_0002), []))
        #expect(action.failureStatus == .initiatorError)
        #expect(machine.isFinished)
    }

    @Test("skipping a stage without agreement is an initiator error")
    func stageJump() {
        var machine = F.machine()
        _ = machine.receive(F.request(.securityNegotiation, [("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("AuthMethod", "None")]))
        let action = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, []))
        #expect(action.failureStatus == .initiatorError)
    }

    @Test("a request after the login ended is refused")
    func afterFinish() throws {
        var machine = F.machine()
        _ = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, [("InitiatorName", F.initiatorName), ("TargetName", F.targetName)]))
        #expect(machine.isFinished)
        #expect(machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, [])).failureStatus == .initiatorError)
    }

    @Test("digests negotiated in login are in the result")
    func digests() throws {
        var machine = F.machine()
        let action = machine.receive(F.request(.operationalNegotiation, next: .fullFeaturePhase, [
            ("InitiatorName", F.initiatorName), ("TargetName", F.targetName), ("HeaderDigest", "CRC32C,None"), ("DataDigest", "CRC32C"),
        ]))
        let result = try #require(action.result)
        #expect(result.parameters.headerDigest)
        #expect(result.parameters.dataDigest)
        #expect(F.text(action.response)["HeaderDigest"] == "CRC32C")
    }
}

import ISCSIProtocol
import NIOCore

/// The initiator side of the login phase (RFC 7143 §6.3, §11.12-§11.13): it builds the
/// Login Requests (names, AuthMethod, CHAP per §12.1.3, operational offers per §13),
/// checks every Login Response against what it offered, and ends with the negotiated
/// parameters and the TSIH, or with the reason the login failed.
///
/// A value that returns actions and does no I/O (STYLE.md §1): the connection sends
/// each `.sendRequest`, feeds every Login Response to ``receive(_:)`` and stops at
/// `.complete` or `.failed`.
public struct InitiatorLoginStateMachine: Sendable {
    /// Who logs in to what, and how.
    public struct Configuration: Sendable, Hashable {
        /// InitiatorName (RFC 7143 §13.5), sent in the first request.
        public var initiatorName: String
        /// InitiatorAlias (§13.7), optional.
        public var initiatorAlias: String?
        /// TargetName (§13.4); nil makes this a discovery session (SessionType=Discovery, §13.21).
        public var targetName: String?
        /// ISID (§11.12.5): with the initiator name, names the session.
        public var isid: ISID
        /// 0 to create a session (§11.12.6).
        public var tsih: TSIH
        public var connectionID: ConnectionID
        /// Repeated in every request of this login (§11.12.7).
        public var initiatorTaskTag: InitiatorTaskTag
        /// Login requests are immediate and do not advance CmdSN (§4.2.2.1).
        public var cmdSN: SequenceNumber
        /// ExpStatSN of the first request; later ones follow the responses' StatSN.
        public var expStatSN: SequenceNumber
        public var authentication: Authentication
        /// The operational values this initiator offers and accepts (§13).
        public var policy: NegotiationPolicy

        public init(
            initiatorName: String, initiatorAlias: String? = nil, targetName: String?, isid: ISID, tsih: TSIH = .new,
            connectionID: ConnectionID = 0, initiatorTaskTag: InitiatorTaskTag = InitiatorTaskTag(0),
            cmdSN: SequenceNumber = SequenceNumber(1), expStatSN: SequenceNumber = SequenceNumber(0),
            authentication: Authentication = .none, policy: NegotiationPolicy = NegotiationPolicy()
        ) {
            self.initiatorName = initiatorName
            self.initiatorAlias = initiatorAlias
            self.targetName = targetName
            self.isid = isid
            self.tsih = tsih
            self.connectionID = connectionID
            self.initiatorTaskTag = initiatorTaskTag
            self.cmdSN = cmdSN
            self.expStatSN = expStatSN
            self.authentication = authentication
            self.policy = policy
        }

        /// Normal when a target is named, Discovery otherwise (§13.21).
        public var sessionType: SessionType { targetName == nil ? .discovery : .normal }
    }

    /// How the initiator authenticates in the security stage (RFC 7143 §12.1).
    public enum Authentication: Sendable, Hashable {
        /// AuthMethod=None.
        case none
        /// AuthMethod=CHAP (§12.1.3) with these algorithms, most preferred first. When
        /// the credentials carry a mutual name and secret, the initiator also challenges
        /// the target and requires it to answer with them.
        case chap(CHAPCredentials, algorithms: [CHAPAlgorithm])
    }

    /// What the connection must do next.
    public enum Action: Sendable, Hashable {
        /// Send this Login Request and wait for the response.
        case sendRequest(LoginRequest)
        /// Login done (§6.3: final response with T=1, NSG=3): enter Full Feature Phase
        /// with these parameters in the session the target named by `tsih`.
        case complete(OperationalParameters, tsih: TSIH)
        /// The login ended without a session; close the connection (§6.3).
        case failed(Failure)
    }

    /// Why a login did not complete.
    public enum Failure: Error, Sendable, Hashable {
        /// The target answered with a non-success status (§11.13.5). For a redirection
        /// (class 1) `targetAddress` is where to go (§13.8).
        case status(ISCSILoginStatus, targetAddress: String?)
        /// The target failed mutual CHAP: wrong name or wrong response (§12.1.3).
        case targetAuthenticationFailed(String)
        /// The target broke the login rules: answers outside the offer, a stage it may
        /// not choose, changed fields, or a login that does not converge.
        case protocolError(String)
    }

    /// Progress through the security stage (§12.1.3).
    private enum SecurityStep: Sendable {
        /// Names and AuthMethod sent.
        case offeredMethod
        /// AuthMethod=CHAP agreed, CHAP_A sent.
        case offeredAlgorithms
        /// CHAP_N/CHAP_R sent; for mutual CHAP, the target's expected CHAP_R.
        case answeredChallenge(expectedTargetResponse: [UInt8]?)
        /// Authentication is over; waiting only for the target to agree to transit.
        case authenticated
    }

    /// State that lives for the whole login.
    private struct Progress: Sendable {
        var expStatSN: SequenceNumber
        var parameters: OperationalParameters
        /// Keys we offered and their offered values, until answered (§6.2).
        var offers: [String: String] = [:]
        /// Keys the target already answered or declared in this login.
        var answered: Set<String> = []
        /// Answers the target's own offers (target-initiated negotiation, §6.2).
        var responder: Negotiator
        /// Text of responses sent with the Continue bit, not yet complete (§11.13.7).
        var pendingText: [UInt8] = []
        /// Requests sent so far, to stop a login that never converges.
        var exchanges = 0
    }

    private enum State: Sendable {
        /// ``start()`` not called yet.
        case idle
        /// CSG=0 (§6.3.1).
        case security(Progress, SecurityStep)
        /// CSG=1 (§6.3.1).
        case operational(Progress)
        /// Completed or failed.
        case finished
    }

    /// A login that takes more request/response pairs than this is abandoned: every
    /// exchange we start either makes progress or asks to transit.
    public static let maximumExchanges = 16

    private var state = State.idle
    public let configuration: Configuration
    /// Source of mutual-CHAP identifiers and challenges; injected so tests are deterministic.
    private let randomBytes: @Sendable (Int) -> [UInt8]

    /// TargetPortalGroupTag from the first response of a normal session (§13.9).
    public private(set) var targetPortalGroupTag: UInt16?
    /// TargetAlias, when the target declared one (§13.6).
    public private(set) var targetAlias: String?
    /// ExpStatSN for the first Full Feature Phase PDU: the final response's StatSN + 1.
    public private(set) var expStatSN: SequenceNumber

    public init(configuration: Configuration, randomBytes: @escaping @Sendable (Int) -> [UInt8]) {
        self.configuration = configuration
        self.randomBytes = randomBytes
        self.expStatSN = configuration.expStatSN
    }

    /// Whether the login has ended (completed or failed).
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// The first Login Request: names, session type and AuthMethod, asking to move
    /// to the operational stage (CSG=0, NSG=1, §6.3.1).
    public mutating func start() -> Action {
        guard case .idle = state else {
            return fail(.protocolError("start() called twice"))
        }
        var parameters = OperationalParameters()
        parameters.localMaxRecvDataSegmentLength = configuration.policy.maxRecvDataSegmentLength
        var progress = Progress(expStatSN: configuration.expStatSN, parameters: parameters, responder: Negotiator(policy: configuration.policy))
        var text = TextParameters()
        text.append("InitiatorName", configuration.initiatorName)
        if let alias = configuration.initiatorAlias { text.append("InitiatorAlias", alias) }
        if let targetName = configuration.targetName {
            text.append("TargetName", targetName)
        } else {
            text.append("SessionType", SessionType.discovery.rawValue)
        }
        switch configuration.authentication {
        case .none:
            text.append("AuthMethod", "None")
            state = .security(progress, .offeredMethod)
            return send(&progress, stage: .securityNegotiation, next: .operationalNegotiation, text: text)
        case .chap:
            // Only CHAP: offering None as well would let a target skip authentication.
            text.append("AuthMethod", "CHAP")
            state = .security(progress, .offeredMethod)
            return send(&progress, stage: .securityNegotiation, next: nil, text: text)
        }
    }

    /// Handles one Login Response.
    public mutating func receive(_ response: LoginResponse) -> Action {
        var progress: Progress
        let stage: LoginStage
        switch state {
        case .idle, .finished:
            return fail(.protocolError("Login Response outside a login"))
        case .security(let current, _):
            progress = current
            stage = .securityNegotiation
        case .operational(let current):
            progress = current
            stage = .operationalNegotiation
        }

        // §11.13.5: any class but 0 ends the login.
        guard response.status == .success else {
            let text = try? TextParameters(decoding: progress.pendingText + readableBytes(response.data))
            return fail(.status(response.status, targetAddress: text?["TargetAddress"]))
        }
        guard response.initiatorTaskTag == configuration.initiatorTaskTag, response.isid == configuration.isid else {
            return fail(.protocolError("the response's ITT or ISID is not this login's (§11.13)"))
        }
        guard response.versionActive == 0 else {
            return fail(.protocolError("VersionActive \(response.versionActive); only 0x00 was offered (§11.13.2)"))
        }
        guard response.currentStage == stage else {
            return fail(.protocolError("response CSG \(response.currentStage) while we are in \(stage)"))
        }
        progress.expStatSN = response.sequence.statSN.advanced(by: 1)
        expStatSN = progress.expStatSN

        // The target's text continues in the next response: ask for it (§11.13.7).
        progress.pendingText += readableBytes(response.data)
        guard progress.pendingText.count <= 64 * 1024 else {
            return fail(.protocolError("login text longer than 64 KiB"))
        }
        if response.continue {
            guard !response.transit else {
                return fail(.protocolError("C and T bits both set (§11.13.7)"))
            }
            return send(&progress, stage: stage, next: nil, text: TextParameters())
        }
        let text: TextParameters
        do {
            text = try TextParameters(decoding: progress.pendingText)
        } catch {
            return fail(.protocolError(error.message))
        }
        progress.pendingText = []
        if let duplicate = text.duplicateKeys.first {
            return fail(.protocolError("key \(duplicate) sent twice in one response (§6.2)"))
        }
        if response.transit {
            let allowed: LoginStage = stage == .securityNegotiation ? .operationalNegotiation : .fullFeaturePhase
            // The target may not pick a stage we did not ask for (§11.13.6); from the
            // security stage we always ask for the operational one.
            guard response.nextStage == allowed else {
                return fail(.protocolError("the target moved to \(response.nextStage), we asked for \(allowed)"))
            }
        }

        switch state {
        case .security(_, let step):
            return securityResponse(&progress, step: step, response: response, text: text)
        default:
            return operationalResponse(&progress, response: response, text: text)
        }
    }

    // MARK: - Security stage (§12.1.3)

    private mutating func securityResponse(_ progress: inout Progress, step: SecurityStep, response: LoginResponse, text: TextParameters) -> Action {
        var answers = TextParameters()
        if let failure = absorb(&progress, text: text, answers: &answers, ignoring: Self.securityKeys) {
            return fail(failure)
        }
        var step = step
        switch (configuration.authentication, step) {
        case (.none, .offeredMethod):
            guard text["AuthMethod"] == "None" else {
                return fail(.protocolError("AuthMethod=\(text["AuthMethod"] ?? "<missing>") answers an offer of None"))
            }
            step = .authenticated
        case (.chap(_, let algorithms), .offeredMethod):
            guard text["AuthMethod"] == "CHAP" else {
                return fail(.protocolError("AuthMethod=\(text["AuthMethod"] ?? "<missing>") answers an offer of CHAP"))
            }
            guard !response.transit else {
                return fail(.protocolError("the target left the security stage before CHAP ran"))
            }
            var request = answers
            request.append("CHAP_A", algorithms.map { String($0.rawValue) }.joined(separator: ","))
            state = .security(progress, .offeredAlgorithms)
            return send(&progress, stage: .securityNegotiation, next: nil, text: request)
        case (.chap(let credentials, let algorithms), .offeredAlgorithms):
            guard !response.transit else {
                return fail(.protocolError("the target left the security stage before CHAP ran"))
            }
            guard let algorithm = text["CHAP_A"].flatMap(Int.init).flatMap(CHAPAlgorithm.init(rawValue:)), algorithms.contains(algorithm) else {
                return fail(.protocolError("CHAP_A=\(text["CHAP_A"] ?? "<missing>") is not one we offered"))
            }
            guard let identifier = text["CHAP_I"].flatMap(UInt8.init), let challenge = text["CHAP_C"].flatMap(CHAPBinary.decode) else {
                return fail(.protocolError("CHAP_I or CHAP_C missing or malformed"))
            }
            var request = answers
            request.append("CHAP_N", credentials.username)
            request.append("CHAP_R", CHAPBinary.encode(algorithm.response(identifier: identifier, secret: credentials.secret, challenge: challenge)))
            var expected: [UInt8]?
            if let mutualSecret = credentials.mutualSecret {
                let ourIdentifier = randomBytes(1).first ?? 0
                let ourChallenge = randomBytes(algorithm.challengeLength)
                // A challenge equal to the target's would let it reflect our own answer (§12.1.3).
                guard ourChallenge != challenge else {
                    return fail(.protocolError("the mutual CHAP challenge would equal the target's"))
                }
                request.append("CHAP_I", String(ourIdentifier))
                request.append("CHAP_C", CHAPBinary.encode(ourChallenge))
                expected = algorithm.response(identifier: ourIdentifier, secret: mutualSecret, challenge: ourChallenge)
            }
            state = .security(progress, .answeredChallenge(expectedTargetResponse: expected))
            return send(&progress, stage: .securityNegotiation, next: .operationalNegotiation, text: request)
        case (.chap(let credentials, _), .answeredChallenge(let expected)):
            if let expected {
                guard let name = text["CHAP_N"], let proof = text["CHAP_R"] else {
                    return fail(.targetAuthenticationFailed("the target did not answer our CHAP challenge"))
                }
                guard credentials.mutualUsername == nil || name == credentials.mutualUsername else {
                    return fail(.targetAuthenticationFailed("the target answered as \(name)"))
                }
                guard CHAPBinary.decode(proof) == expected else {
                    return fail(.targetAuthenticationFailed("the target's CHAP response for \(name) does not match"))
                }
            }
            step = .authenticated
        case (_, .authenticated):
            break
        default:
            return fail(.protocolError("unexpected security stage response"))
        }

        if response.transit {
            state = .operational(progress)
            return sendOperationalOffers(&progress, answers: answers)
        }
        // Authentication is done but the target stayed: ask again to transit.
        state = .security(progress, step)
        return send(&progress, stage: .securityNegotiation, next: .operationalNegotiation, text: answers)
    }

    private static let securityKeys: Set<String> = ["AuthMethod", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R"]

    // MARK: - Operational stage (§6.3, §13)

    /// The first operational request: every key of our policy that this session type
    /// uses, plus our MaxRecvDataSegmentLength declaration (§13.12).
    private mutating func sendOperationalOffers(_ progress: inout Progress, answers: TextParameters) -> Action {
        var text = answers
        let keys = configuration.sessionType == .normal ? Self.normalSessionOffers : Self.discoverySessionOffers
        // A key the target already offered or declared is settled: offering it again
        // would send a duplicate key (§6.2).
        for key in keys where !progress.answered.contains(key) {
            guard let value = configuration.policy.value(for: key) else { continue }
            text.append(key, value)
            if NegotiationKey.table[key]?.rule != .declarative { progress.offers[key] = value }
        }
        state = .operational(progress)
        return send(&progress, stage: .operationalNegotiation, next: .fullFeaturePhase, text: text)
    }

    /// Keys a normal session offers (RFC 7143 §13.1-§13.20).
    private static let normalSessionOffers = [
        "HeaderDigest", "DataDigest", "MaxConnections", "InitialR2T", "ImmediateData", "MaxRecvDataSegmentLength",
        "MaxBurstLength", "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain", "MaxOutstandingR2T",
        "DataPDUInOrder", "DataSequenceInOrder", "ErrorRecoveryLevel",
    ]
    /// A discovery session needs only the connection keys (§4.3, §13).
    private static let discoverySessionOffers = ["HeaderDigest", "DataDigest", "MaxRecvDataSegmentLength"]

    private mutating func operationalResponse(_ progress: inout Progress, response: LoginResponse, text: TextParameters) -> Action {
        var answers = TextParameters()
        if let failure = absorb(&progress, text: text, answers: &answers, ignoring: []) {
            return fail(failure)
        }
        if let key = text.pairs.first(where: { Self.securityKeys.contains($0.key) })?.key {
            return fail(.protocolError("\(key) outside the security stage"))
        }
        guard response.transit else {
            state = .operational(progress)
            return send(&progress, stage: .operationalNegotiation, next: .fullFeaturePhase, text: answers)
        }
        // A final response may not open negotiations it leaves no room to answer (§6.3).
        guard answers.isEmpty else {
            return fail(.protocolError("the final Login Response offers \(answers.pairs.map(\.key).joined(separator: ", "))"))
        }
        // §11.13.3: the final response of a login that creates a session carries its TSIH.
        guard configuration.tsih != .new || response.tsih != .new else {
            return fail(.protocolError("the final Login Response has TSIH 0"))
        }
        guard configuration.tsih == .new || response.tsih == configuration.tsih else {
            return fail(.protocolError("the final Login Response names TSIH \(response.tsih), we asked for \(configuration.tsih)"))
        }
        var parameters = progress.parameters
        // FirstBurstLength may never exceed MaxBurstLength (§13.14).
        parameters.firstBurstLength = min(parameters.firstBurstLength, parameters.maxBurstLength)
        state = .finished
        return .complete(parameters, tsih: response.tsih)
    }

    // MARK: - Keys

    /// Takes in the target's keys: answers to our offers (checked against the result
    /// function, §6.2), declarations, and offers of its own (answered into `answers`).
    private mutating func absorb(_ progress: inout Progress, text: TextParameters, answers: inout TextParameters, ignoring: Set<String>) -> Failure? {
        for (key, value) in text.pairs where !ignoring.contains(key) {
            switch key {
            case "TargetPortalGroupTag":
                guard let tag = UInt16(value) else { return .protocolError("TargetPortalGroupTag=\(value)") }
                targetPortalGroupTag = tag
                continue
            case "TargetAlias":
                targetAlias = value
                continue
            case "TargetAddress":
                continue
            case "MaxRecvDataSegmentLength":
                // The target's declaration: the longest segment we may send (§13.12).
                guard let length = Int(value), (512...NegotiationKey.largestSegmentLength).contains(length) else {
                    return .protocolError("MaxRecvDataSegmentLength=\(value) is out of range (§13.12)")
                }
                progress.parameters.peerMaxRecvDataSegmentLength = length
                continue
            default:
                break
            }
            guard progress.answered.insert(key).inserted else {
                return .protocolError("key \(key) answered twice in one login (§6.2)")
            }
            if let offered = progress.offers.removeValue(forKey: key) {
                switch Self.result(key: key, offered: offered, answer: value) {
                case .success(let result):
                    if let result { progress.parameters.apply(key: key, value: result) }
                case .failure(let failure):
                    return failure
                }
            } else {
                // The target's own offer: answer it as a responder would (§6.2).
                do {
                    if let reply = try progress.responder.answer(key: key, value: value) {
                        answers.append(key, reply)
                        if NegotiationKey.table[key] != nil, reply != "Reject" { progress.parameters.apply(key: key, value: reply) }
                    }
                } catch {
                    return .protocolError(error.message)
                }
            }
        }
        return nil
    }

    /// The value in force after the target answered `answer` to our `offered` value,
    /// nil to keep the default, or a failure when the answer breaks the key's result
    /// function (RFC 7143 §6.2.1, §6.2.2).
    private static func result(key: String, offered: String, answer: String) -> Result<String?, Failure> {
        if answer == "Reject" || answer == "NotUnderstood" || answer == "Irrelevant" { return .success(nil) }
        guard let definition = NegotiationKey.table[key] else { return .success(nil) }
        let illegal = Failure.protocolError("\(key)=\(answer) does not answer our offer \(offered) (§6.2)")
        switch definition.rule {
        case .declarative:
            return .success(nil)
        case .list:
            return offered.split(separator: ",").contains(Substring(answer)) ? .success(answer) : .failure(illegal)
        case .minimum, .maximum:
            guard let value = Int(answer), let ours = Int(offered), case .numeric(let range) = definition.valueType, range.contains(value),
                definition.rule == .minimum ? value <= ours : value >= ours
            else { return .failure(illegal) }
            return .success(answer)
        case .booleanAnd, .booleanOr:
            guard answer == "Yes" || answer == "No" else { return .failure(illegal) }
            // AND can only turn our Yes into No; OR can only turn our No into Yes.
            let forced = definition.rule == .booleanAnd ? offered == "No" : offered == "Yes"
            guard !forced || answer == offered else { return .failure(illegal) }
            return .success(answer)
        }
    }

    // MARK: - Requests

    /// Builds and counts one Login Request.
    private mutating func send(_ progress: inout Progress, stage: LoginStage, next: LoginStage?, text: TextParameters) -> Action {
        progress.exchanges += 1
        guard progress.exchanges <= Self.maximumExchanges else {
            return fail(.protocolError("the login did not finish in \(Self.maximumExchanges) exchanges"))
        }
        switch state {
        case .security(_, let step): state = .security(progress, step)
        case .operational: state = .operational(progress)
        case .idle, .finished: break
        }
        var request = LoginRequest()
        request.transit = next != nil
        request.currentStage = stage
        request.nextStage = next ?? .securityNegotiation  // NSG is reserved (zero) without T (§11.12.3)
        request.versionMax = 0
        request.versionMin = 0
        request.isid = configuration.isid
        request.tsih = configuration.tsih
        request.initiatorTaskTag = configuration.initiatorTaskTag
        request.connectionID = configuration.connectionID
        request.cmdSN = configuration.cmdSN
        request.expStatSN = progress.expStatSN
        request.data = ByteBuffer(bytes: text.encoded)
        return .sendRequest(request)
    }

    private mutating func fail(_ failure: Failure) -> Action {
        state = .finished
        return .failed(failure)
    }

    private func readableBytes(_ buffer: ByteBuffer) -> [UInt8] {
        buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }
}

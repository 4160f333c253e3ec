import ISCSIProtocol
import NIOCore

/// The target side of the login phase (RFC 7143 §6.3, §11.12-§11.13): stages, text
/// spanning PDUs (Continue bit), CHAP (§12.1.3), operational negotiation (§13) and
/// every failure status. A value that returns actions and does no I/O (STYLE.md §1).
public struct TargetLoginStateMachine: Sendable {
    /// What the connection must do after a Login Request.
    public enum Action: Sendable, Hashable {
        /// Send this response and wait for the next request.
        case sendResponse(LoginResponse)
        /// Send this failure response, then close the connection (§6.3: a login
        /// failure ends the connection).
        case failAndClose(LoginResponse, reason: String)
        /// Login done: assign a TSIH, send this final response, then enter Full
        /// Feature Phase with the result's parameters.
        case complete(LoginResponse, LoginResult)
    }

    /// Progress through CHAP (RFC 7143 §12.1.3).
    private enum CHAPState: Sendable {
        /// CHAP not chosen (or not needed).
        case notStarted
        /// AuthMethod=CHAP answered; waiting for CHAP_A.
        case awaitingAlgorithm
        /// Challenge sent; waiting for CHAP_N/CHAP_R.
        case awaitingResponse(algorithm: CHAPAlgorithm, identifier: UInt8, challenge: [UInt8])
        /// The initiator proved its identity.
        case authenticated
    }

    /// State that lives for the whole login.
    private struct Progress: Sendable {
        var stage: LoginStage
        var initiatorName: String?
        var initiatorAlias: String?
        var sessionType = SessionType.normal
        var target: TargetLoginConfiguration.Target?
        var first: LoginRequest
        var chap = CHAPState.notStarted
        var negotiator: Negotiator
        /// Text of requests sent with the Continue bit, not yet complete.
        var pendingText: [UInt8] = []
        var statSN: SequenceNumber
        var sentPortalGroupTag = false
    }

    private enum State: Sendable {
        case awaitingFirstRequest
        case negotiating(Progress)
        case finished
    }

    private var state = State.awaitingFirstRequest
    private let configuration: TargetLoginConfiguration
    /// Source of CHAP identifiers and challenges; injected so tests are deterministic.
    private let randomBytes: @Sendable (Int) -> [UInt8]

    public init(configuration: TargetLoginConfiguration, randomBytes: @escaping @Sendable (Int) -> [UInt8]) {
        self.configuration = configuration
        self.randomBytes = randomBytes
    }

    /// Whether the login has ended (completed or failed).
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Handles one Login Request.
    public mutating func receive(_ request: LoginRequest) -> Action {
        var progress: Progress
        switch state {
        case .finished:
            return fail(request: request, statSN: SequenceNumber(0), .initiatorError, "login request after the login ended")
        case .awaitingFirstRequest:
            // Only version 0x00 exists (RFC 7143 §11.12.4).
            guard request.versionMin == 0 else {
                return fail(request: request, statSN: SequenceNumber(0), .unsupportedVersion, "VersionMin \(request.versionMin) is not supported; only 0x00 is")
            }
            guard let stage = request.currentStage, stage != .fullFeaturePhase else {
                return fail(request: request, statSN: SequenceNumber(0), .initiatorError, "the first login request must be in the security or operational stage")
            }
            progress = Progress(stage: stage, first: request, negotiator: Negotiator(policy: configuration.policy), statSN: request.expStatSN)
        case .negotiating(let current):
            progress = current
            // Every request of one login repeats the ISID, TSIH, CID and ITT (§6.3, §11.12).
            guard request.isid == progress.first.isid, request.tsih == progress.first.tsih,
                request.connectionID == progress.first.connectionID
            else {
                return fail(progress: &progress, request: request, .initiatorError, "ISID, TSIH or CID changed within one login")
            }
        }
        state = .finished  // until proven otherwise below

        // Continue bit: collect the fragments, acknowledge each with an empty response (§6.3.3? §11.12.2).
        progress.pendingText += readableBytes(request.data)
        guard progress.pendingText.count <= 64 * 1024 else {
            return fail(progress: &progress, request: request, .outOfResources, "login text longer than 64 KiB")
        }
        if request.continue {
            guard !request.transit else {
                return fail(progress: &progress, request: request, .initiatorError, "C and T bits both set (RFC 7143 §11.12.2)")
            }
            let response = makeResponse(progress: &progress, request: request, text: TextParameters(), transit: false)
            state = .negotiating(progress)
            return .sendResponse(response)
        }
        let text: TextParameters
        do {
            text = try TextParameters(decoding: progress.pendingText)
        } catch {
            return fail(progress: &progress, request: request, .initiatorError, error.message)
        }
        progress.pendingText = []
        if let duplicate = text.duplicateKeys.first {
            return fail(progress: &progress, request: request, .initiatorError, "key \(duplicate) sent twice in one request (RFC 7143 §6.2)")
        }

        guard let currentStage = request.currentStage, currentStage >= progress.stage, currentStage != .fullFeaturePhase else {
            return fail(progress: &progress, request: request, .initiatorError, "CSG went backwards or is invalid")
        }
        if currentStage > progress.stage {
            // Skipping ahead is allowed only when we agreed to transit (or on the first PDU).
            return fail(progress: &progress, request: request, .initiatorError, "CSG \(currentStage) without an agreed stage transition")
        }
        if let failure = identify(progress: &progress, request: request, text: text) {
            return failure
        }
        var answer = TextParameters()
        if progress.stage == .securityNegotiation {
            if let failure = authenticate(progress: &progress, request: request, text: text, answer: &answer) {
                return failure
            }
        } else if needsAuthentication(progress), !isAuthenticated(progress) {
            return fail(progress: &progress, request: request, .authenticationFailure, "authentication is required but the initiator skipped the security stage")
        }
        if let failure = negotiateOperational(progress: &progress, request: request, text: text, answer: &answer) {
            return failure
        }
        return respond(progress: &progress, request: request, answer: answer)
    }

    // MARK: - Steps

    /// Reads InitiatorName, SessionType and TargetName from the first request and finds
    /// the target (§13.4, §13.5, §13.21); fails with the status RFC 7143 §11.13.5 names.
    private mutating func identify(progress: inout Progress, request: LoginRequest, text: TextParameters) -> Action? {
        if progress.initiatorName == nil {
            guard let name = text["InitiatorName"], !name.isEmpty else {
                return fail(progress: &progress, request: request, .missingParameter, "the first login request has no InitiatorName")
            }
            progress.initiatorName = name
            progress.initiatorAlias = text["InitiatorAlias"]
            switch text["SessionType"] ?? "Normal" {
            case "Normal": progress.sessionType = .normal
            case "Discovery": progress.sessionType = .discovery
            default:
                return fail(progress: &progress, request: request, .sessionTypeNotSupported, "SessionType=\(text["SessionType"] ?? "") is not Normal or Discovery")
            }
            if progress.sessionType == .normal {
                guard let targetName = text["TargetName"], !targetName.isEmpty else {
                    return fail(progress: &progress, request: request, .missingParameter, "a normal session needs TargetName")
                }
                guard let target = configuration.targets[targetName] else {
                    return fail(progress: &progress, request: request, .notFound, "no target named \(targetName) on this portal")
                }
                guard target.allowedInitiators.isEmpty || target.allowedInitiators.contains(name), target.peerAddressAllowed else {
                    return fail(progress: &progress, request: request, .authorizationFailure, "initiator \(name) is not in the ACL of \(targetName)")
                }
                progress.target = target
            }
        } else if let name = text["InitiatorName"], name != progress.initiatorName {
            return fail(progress: &progress, request: request, .initiatorError, "InitiatorName changed during login")
        }
        return nil
    }

    private func credentials(_ progress: Progress) -> CHAPCredentials? {
        progress.sessionType == .discovery ? configuration.discoveryCredentials : progress.target?.credentials
    }

    private func needsAuthentication(_ progress: Progress) -> Bool { credentials(progress) != nil }

    private func isAuthenticated(_ progress: Progress) -> Bool {
        if case .authenticated = progress.chap { return true }
        return false
    }

    /// The security stage: AuthMethod, then CHAP_A, then CHAP_N/CHAP_R (§12.1.3).
    private mutating func authenticate(progress: inout Progress, request: LoginRequest, text: TextParameters, answer: inout TextParameters) -> Action? {
        let credentials = credentials(progress)
        if let offered = text["AuthMethod"] {
            let methods = offered.split(separator: ",").map(String.init)
            let choice = credentials == nil ? (methods.contains("None") ? "None" : nil) : (methods.contains("CHAP") ? "CHAP" : nil)
            guard let choice else {
                return fail(progress: &progress, request: request, .authenticationFailure,
                            credentials == nil ? "the initiator offered AuthMethod=\(offered) but this target uses None" : "the target requires CHAP; the initiator offered AuthMethod=\(offered)")
            }
            answer.append("AuthMethod", choice)
            if choice == "CHAP" { progress.chap = .awaitingAlgorithm }
        }
        guard let credentials else { return nil }

        switch progress.chap {
        case .notStarted:
            return fail(progress: &progress, request: request, .authenticationFailure, "the target requires CHAP but AuthMethod was not negotiated")
        case .awaitingAlgorithm:
            guard let offered = text["CHAP_A"] else { return nil }
            let algorithm = offered.split(separator: ",").compactMap { Int($0).flatMap(CHAPAlgorithm.init(rawValue:)) }.first
            guard let algorithm else {
                return fail(progress: &progress, request: request, .authenticationFailure, "no supported CHAP algorithm in CHAP_A=\(offered)")
            }
            let identifier = randomBytes(1).first ?? 0
            let challenge = randomBytes(algorithm.challengeLength)
            answer.append("CHAP_A", String(algorithm.rawValue))
            answer.append("CHAP_I", String(identifier))
            answer.append("CHAP_C", CHAPBinary.encode(challenge))
            progress.chap = .awaitingResponse(algorithm: algorithm, identifier: identifier, challenge: challenge)
        case .awaitingResponse(let algorithm, let identifier, let challenge):
            guard let name = text["CHAP_N"], let responseText = text["CHAP_R"] else {
                return fail(progress: &progress, request: request, .authenticationFailure, "CHAP_N and CHAP_R missing from the CHAP response")
            }
            let expected = algorithm.response(identifier: identifier, secret: credentials.secret, challenge: challenge)
            guard name == credentials.username, CHAPBinary.decode(responseText) == expected else {
                return fail(progress: &progress, request: request, .authenticationFailure, "CHAP response for user \(name) does not match")
            }
            if let mutualIdentifierText = text["CHAP_I"], let mutualChallengeText = text["CHAP_C"] {
                guard let mutualName = credentials.mutualUsername, let mutualSecret = credentials.mutualSecret else {
                    return fail(progress: &progress, request: request, .authenticationFailure, "the initiator asked for mutual CHAP but none is configured")
                }
                guard let mutualIdentifier = UInt8(mutualIdentifierText), let mutualChallenge = CHAPBinary.decode(mutualChallengeText),
                    mutualChallenge != challenge
                else {
                    // A reflected challenge is an attack (RFC 7143 §12.1.3).
                    return fail(progress: &progress, request: request, .authenticationFailure, "invalid or reflected mutual CHAP challenge")
                }
                answer.append("CHAP_N", mutualName)
                answer.append("CHAP_R", CHAPBinary.encode(algorithm.response(identifier: mutualIdentifier, secret: mutualSecret, challenge: mutualChallenge)))
            } else if credentials.mutualUsername != nil {
                return fail(progress: &progress, request: request, .authenticationFailure, "the target requires mutual CHAP; the initiator sent no CHAP_I/CHAP_C")
            }
            progress.chap = .authenticated
        case .authenticated:
            break
        }
        return nil
    }

    /// Operational keys (allowed in both stages; RFC 7143 §6.3).
    private mutating func negotiateOperational(progress: inout Progress, request: LoginRequest, text: TextParameters, answer: inout TextParameters) -> Action? {
        let handledElsewhere: Set<String> = ["InitiatorName", "InitiatorAlias", "TargetName", "SessionType", "AuthMethod", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R"]
        for (key, value) in text.pairs where !handledElsewhere.contains(key) {
            if key == "SendTargets" {
                return fail(progress: &progress, request: request, .initiatorError, "SendTargets is only allowed in Full Feature Phase (RFC 7143 §13.3)")
            }
            do {
                if let reply = try progress.negotiator.answer(key: key, value: value) { answer.append(key, reply) }
            } catch {
                return fail(progress: &progress, request: request, .initiatorError, error.message)
            }
        }
        return nil
    }

    /// Builds the response, deciding whether to agree to the requested transition.
    private mutating func respond(progress: inout Progress, request: LoginRequest, answer: TextParameters) -> Action {
        var answer = answer
        if progress.sessionType == .normal, !progress.sentPortalGroupTag {
            // §13.9: returned in the first Login Response of a normal session.
            answer.append("TargetPortalGroupTag", String(progress.target?.portalGroupTag ?? 1))
            if let alias = progress.target?.alias { answer.append("TargetAlias", alias) }
            progress.sentPortalGroupTag = true
        }
        var transit = request.transit
        if progress.stage == .securityNegotiation, needsAuthentication(progress), !isAuthenticated(progress) {
            transit = false  // no leaving the security stage before CHAP succeeds (§12.1.3)
        }
        // NSG counts only when T is set; then the reserved value 2 is a protocol error (§11.12.3).
        let nextStage = request.nextStage ?? .operationalNegotiation
        if request.transit, request.nextStage == nil {
            return fail(progress: &progress, request: request, .initiatorError, "NSG 2 is reserved (RFC 7143 §11.12.3)")
        }
        if transit {
            guard nextStage > progress.stage else {
                return fail(progress: &progress, request: request, .initiatorError, "NSG \(nextStage) does not follow CSG \(progress.stage)")
            }
            if nextStage == .fullFeaturePhase || progress.stage == .operationalNegotiation,
                let declaration = progress.negotiator.declarationOfMaxRecvDataSegmentLength()
            {
                answer.append("MaxRecvDataSegmentLength", declaration)
            }
        }
        var response = makeResponse(progress: &progress, request: request, text: answer, transit: transit)
        if transit, nextStage == .fullFeaturePhase {
            state = .finished
            let result = LoginResult(
                initiatorName: progress.initiatorName ?? "",
                initiatorAlias: progress.initiatorAlias,
                targetName: progress.target?.name,
                sessionType: progress.sessionType,
                isid: request.isid,
                requestedTSIH: request.tsih,
                connectionID: request.connectionID,
                parameters: progress.negotiator.parameters,
                expectedCmdSN: request.cmdSN,
                nextStatSN: progress.statSN
            )
            response.nextStage = .fullFeaturePhase
            return .complete(response, result)
        }
        if transit { progress.stage = nextStage }
        state = .negotiating(progress)
        return .sendResponse(response)
    }

    // MARK: - Responses

    private func makeResponse(progress: inout Progress, request: LoginRequest, text: TextParameters, transit: Bool) -> LoginResponse {
        var response = LoginResponse()
        response.transit = transit
        response.currentStage = progress.stage
        // NSG is reserved (zero) unless T is set (RFC 7143 §11.13.3).
        response.nextStage = transit ? (request.nextStage ?? progress.stage) : .securityNegotiation
        response.versionMax = 0
        response.versionActive = 0
        response.isid = request.isid
        response.tsih = request.tsih
        response.initiatorTaskTag = request.initiatorTaskTag
        response.sequence = StatusSequence(
            statSN: progress.statSN,
            expCmdSN: request.cmdSN,
            maxCmdSN: request.cmdSN.advanced(by: configuration.commandWindow - 1)
        )
        progress.statSN = progress.statSN.advanced(by: 1)
        response.data = ByteBuffer(bytes: text.encoded)
        return response
    }

    private mutating func fail(progress: inout Progress, request: LoginRequest, _ status: ISCSILoginStatus, _ reason: String) -> Action {
        state = .finished
        var response = makeResponse(progress: &progress, request: request, text: TextParameters(), transit: false)
        response.status = status
        return .failAndClose(response, reason: reason)
    }

    private mutating func fail(request: LoginRequest, statSN: SequenceNumber, _ status: ISCSILoginStatus, _ reason: String) -> Action {
        var progress = Progress(stage: request.currentStage ?? .securityNegotiation, first: request, negotiator: Negotiator(policy: configuration.policy), statSN: request.expStatSN)
        return fail(progress: &progress, request: request, status, reason)
    }

    private func readableBytes(_ buffer: ByteBuffer) -> [UInt8] {
        buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }
}

import ISCSIProtocol
import ISCSISession
import NIOCore

/// Names, credentials and builders shared by the login tests.
enum LoginFixture {
    static let initiatorName = "iqn.2024-01.org.swiftport.test:initiator"
    static let targetName = "iqn.2024-01.org.swiftport.test:disk"
    static let chapTargetName = "iqn.2024-01.org.swiftport.test:chap"
    static let mutualTargetName = "iqn.2024-01.org.swiftport.test:mutual"
    static let aclTargetName = "iqn.2024-01.org.swiftport.test:acl"
    static let fencedTargetName = "iqn.2024-01.org.swiftport.test:fenced"
    static let isid = ISID(rawValue: 0x4000_0137_0001)

    static let oneWay = CHAPCredentials(username: "alice", secret: "alice-secret-12")
    static let mutual = CHAPCredentials(username: "bob", secret: "bob-secret-1234", mutualUsername: "target-bob", mutualSecret: "target-secret-9")

    /// Deterministic "random" bytes: 1, 2, 3, … for each call.
    static let randomBytes: @Sendable (Int) -> [UInt8] = { count in (0..<count).map { UInt8(truncatingIfNeeded: $0 + 1) } }

    static func configuration(policy: NegotiationPolicy = NegotiationPolicy(), discoveryCredentials: CHAPCredentials? = nil) -> TargetLoginConfiguration {
        TargetLoginConfiguration(
            targets: [
                .init(name: targetName, alias: "disk", portalGroupTag: 7),
                .init(name: chapTargetName, credentials: oneWay, portalGroupTag: 2),
                .init(name: mutualTargetName, credentials: mutual),
                .init(name: aclTargetName, allowedInitiators: ["iqn.2024-01.org.swiftport.test:someone-else"]),
                .init(name: fencedTargetName, peerAddressAllowed: false),
            ],
            discoveryCredentials: discoveryCredentials,
            policy: policy,
            commandWindow: 32
        )
    }

    static func machine(policy: NegotiationPolicy = NegotiationPolicy(), discoveryCredentials: CHAPCredentials? = nil) -> TargetLoginStateMachine {
        TargetLoginStateMachine(configuration: configuration(policy: policy, discoveryCredentials: discoveryCredentials), randomBytes: randomBytes)
    }

    /// A Login Request with the fields every request of one login repeats.
    static func request(
        _ stage: LoginStage, next: LoginStage? = nil, continue: Bool = false, isid: ISID = isid,
        _ pairs: [(String, String)]
    ) -> LoginRequest {
        request(stage, next: next, continue: `continue`, isid: isid, data: TextParameters(pairs).encoded)
    }

    static func request(_ stage: LoginStage, next: LoginStage? = nil, continue: Bool = false, isid: ISID = isid, data: [UInt8]) -> LoginRequest {
        var request = LoginRequest()
        request.currentStage = stage
        request.transit = next != nil
        request.nextStage = next ?? stage
        request.continue = `continue`
        request.isid = isid
        request.initiatorTaskTag = InitiatorTaskTag(0x10)
        request.connectionID = 1
        request.cmdSN = SequenceNumber(1)
        request.expStatSN = SequenceNumber(0)
        request.data = ByteBuffer(bytes: data)
        return request
    }

    /// The text of a Login Response.
    static func text(_ response: LoginResponse) -> TextParameters {
        (try? TextParameters(decoding: Array(response.data.readableBytesView))) ?? TextParameters()
    }

    /// The CHAP_R the initiator sends for the target's CHAP_A/CHAP_I/CHAP_C.
    static func chapResponse(to challenge: TextParameters, secret: String) -> String? {
        guard let algorithm = challenge["CHAP_A"].flatMap(Int.init).flatMap(CHAPAlgorithm.init(rawValue:)),
            let identifier = challenge["CHAP_I"].flatMap(UInt8.init),
            let bytes = challenge["CHAP_C"].flatMap(CHAPBinary.decode)
        else { return nil }
        return CHAPBinary.encode(algorithm.response(identifier: identifier, secret: secret, challenge: bytes))
    }
}

extension TargetLoginStateMachine.Action {
    /// The response of any action.
    var response: LoginResponse {
        switch self {
        case .sendResponse(let response), .failAndClose(let response, _), .complete(let response, _): response
        }
    }

    /// The status of a failure, nil otherwise.
    var failureStatus: ISCSILoginStatus? {
        if case .failAndClose(let response, _) = self { return response.status }
        return nil
    }

    var result: LoginResult? {
        if case .complete(_, let result) = self { return result }
        return nil
    }

    var isSendResponse: Bool {
        if case .sendResponse = self { return true }
        return false
    }
}

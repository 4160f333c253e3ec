/// Answers an initiator's operational keys from `NegotiationKey.table` (RFC 7143 §6.2):
/// one generic rule per result function instead of a branch per key.
public struct Negotiator: Sendable, Hashable {
    public var policy: NegotiationPolicy
    public private(set) var parameters: OperationalParameters
    /// Keys already negotiated in this login: offering one again is a protocol error (§6.2).
    private var negotiated: Set<String> = []
    /// Whether our own MaxRecvDataSegmentLength has been declared to the peer yet.
    public private(set) var declaredMaxRecvDataSegmentLength = false

    public init(policy: NegotiationPolicy) {
        self.policy = policy
        var parameters = OperationalParameters()
        parameters.localMaxRecvDataSegmentLength = policy.maxRecvDataSegmentLength
        self.parameters = parameters
    }

    /// Why a key exchange failed the login.
    public enum Failure: Error, Sendable, Hashable {
        /// The same key was offered twice (RFC 7143 §6.2): initiator error.
        case duplicateKey(String)
        /// A declaration outside its range, e.g. MaxRecvDataSegmentLength=0 (§13.12):
        /// there is nothing to answer a declaration with, so the login fails.
        case invalidDeclaration(key: String, value: String)

        /// What the login failure says.
        public var message: String {
            switch self {
            case .duplicateKey(let key): "key \(key) offered twice in one login (RFC 7143 §6.2)"
            case .invalidDeclaration(let key, let value): "\(key)=\(value) is outside the range RFC 7143 §13 allows"
            }
        }
    }

    /// The answer to one offered `key=value`, or nil when nothing is to be answered
    /// (declarations, answers to our own offers). Unknown keys get NotUnderstood (§6.2).
    public mutating func answer(key: String, value: String) throws(Failure) -> String? {
        if ["NotUnderstood", "Irrelevant", "Reject"].contains(value) { return nil }
        guard let definition = NegotiationKey.table[key] else { return "NotUnderstood" }
        if definition.rule != .declarative {
            guard negotiated.insert(key).inserted else { throw .duplicateKey(key) }
        }
        let result: String?
        switch definition.rule {
        case .declarative:
            if key == "MaxRecvDataSegmentLength" {
                guard let length = Int(value), case .numeric(let range) = definition.valueType, range.contains(length) else {
                    throw .invalidDeclaration(key: key, value: value)
                }
                parameters.peerMaxRecvDataSegmentLength = length
            }
            if key == "OFMarkInt" || key == "IFMarkInt" { return "Irrelevant" }
            return nil
        case .list:
            let accepted = Set((policy.value(for: key) ?? "").split(separator: ",").map(String.init))
            result = value.split(separator: ",").map(String.init).first { accepted.contains($0) }
        case .minimum, .maximum:
            guard let offered = Int(value), case .numeric(let range) = definition.valueType, range.contains(offered),
                let ours = policy.value(for: key).flatMap(Int.init)
            else { return "Reject" }
            var value = definition.rule == .minimum ? min(offered, ours) : max(offered, ours)
            // FirstBurstLength may never exceed MaxBurstLength (§13.14): never answer more
            // than the MaxBurstLength already in force, or the peer would use a larger value.
            if key == "FirstBurstLength" { value = min(value, parameters.maxBurstLength) }
            result = String(value)
        case .booleanAnd, .booleanOr:
            guard value == "Yes" || value == "No", let ours = policy.value(for: key) else { return "Reject" }
            let (offered, mine) = (value == "Yes", ours == "Yes")
            result = (definition.rule == .booleanAnd ? offered && mine : offered || mine) ? "Yes" : "No"
        }
        guard let result else { return "Reject" }
        parameters.apply(key: key, value: result)
        // FirstBurstLength may never exceed MaxBurstLength (§13.14).
        parameters.firstBurstLength = min(parameters.firstBurstLength, parameters.maxBurstLength)
        return result
    }

    /// Our MaxRecvDataSegmentLength declaration, once per login (§13.12).
    public mutating func declarationOfMaxRecvDataSegmentLength() -> String? {
        guard !declaredMaxRecvDataSegmentLength else { return nil }
        declaredMaxRecvDataSegmentLength = true
        return String(policy.maxRecvDataSegmentLength)
    }
}

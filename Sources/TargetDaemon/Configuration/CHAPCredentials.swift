/// CHAP credentials (RFC 7143 §12.1.3) for a target or for discovery sessions.
///
/// `username`/`secret` authenticate the initiator to the target (one-way CHAP); with
/// `mutualUsername`/`mutualSecret` the target also proves itself to the initiator
/// (mutual CHAP).
public struct CHAPCredentials: Sendable, Equatable {
    /// RFC 7143 §12.1.3: secrets SHOULD be at least 96 bits (12 bytes) long, since CHAP
    /// exchanges can be recorded and the secret brute-forced offline; we require it.
    public static let minimumSecretLength = 12
    /// The longest secret we accept; initiators such as open-iscsi cap secrets near 256 bytes.
    public static let maximumSecretLength = 255

    /// CHAP_N the initiator must send.
    public var username: String
    /// Shared secret for the initiator's response.
    public var secret: String
    /// CHAP_N the target sends in mutual CHAP.
    public var mutualUsername: String?
    /// Shared secret for the target's response in mutual CHAP.
    public var mutualSecret: String?

    public init(username: String, secret: String, mutualUsername: String? = nil, mutualSecret: String? = nil) {
        self.username = username
        self.secret = secret
        self.mutualUsername = mutualUsername
        self.mutualSecret = mutualSecret
    }
}

/// CHAP credentials (RFC 7143 §12.1.3) for a target or for discovery sessions.
///
/// `username`/`secret` authenticate the initiator to the target (one-way CHAP); with
/// `mutualUsername`/`mutualSecret` the target also proves itself to the initiator
/// (mutual CHAP).
public struct CHAPCredentials: Sendable, Equatable {
    /// RFC 7143 §12.1.3: a recorded CHAP exchange can be brute-forced offline, so a
    /// secret with fewer than 96 random bits may only be used where IPsec encryption is
    /// enforced. Swiftport runs no IPsec, so every secret needs at least 12 bytes (the
    /// Microsoft initiator enforces the same minimum on connections without IPsec).
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

    /// Why `secret` is too short or too long, as the rest of a sentence that starts with
    /// where it came from ("'secret' is …", "--chap-secret-file x: the secret is …");
    /// nil when its length is fine.
    public static func lengthProblem(of secret: String) -> (problem: String, suggestion: String?)? {
        let length = secret.utf8.count
        if length < minimumSecretLength {
            return ("is \(length) characters long; CHAP secrets must have at least \(minimumSecretLength) (96 bits, RFC 7143 §12.1.3)",
                    "use a longer random secret, e.g. from `openssl rand -base64 12`")
        }
        if length > maximumSecretLength {
            return ("is \(length) bytes long; at most \(maximumSecretLength) are accepted", nil)
        }
        return nil
    }
}

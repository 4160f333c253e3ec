import ISCSISession

extension CHAPCredentials {
    static let keys = ["username", "secret", "mutual_username", "mutual_secret"]

    /// Reads `[discovery.auth]` or `[target.auth]`; nil after reporting errors.
    init?(reading reader: TableReader) {
        let username = reader.string("username", example: "\"initiator-user\"")
        let secret = reader.string("secret", example: "\"a-secret-of-12-or-more-chars\"")
        let mutualUsername = reader.string("mutual_username", example: "\"target-user\"")
        let mutualSecret = reader.string("mutual_secret", example: "\"another-secret-12+\"")
        var valid = true
        // A key present with the wrong type is reported already; only absence is reported here.
        if username == nil {
            if reader.table["username"] == nil { reader.missing("username", example: "\"initiator-user\"") }
            valid = false
        }
        for candidate in [username, mutualUsername].compactMap(\.self) where candidate.value.isEmpty {
            reader.decoder.report("CHAP user names must not be empty", line: candidate.line)
            valid = false
        }
        if let secret {
            valid = Self.checkLength(of: secret, key: "secret", decoder: reader.decoder) && valid
        } else {
            if reader.table["secret"] == nil { reader.missing("secret", example: "\"a-secret-of-12-or-more-chars\"") }
            valid = false
        }
        switch (mutualUsername, mutualSecret) {
        case (nil, nil):
            break
        case (_?, nil):
            if reader.table["mutual_secret"] == nil { reader.missing("mutual_secret", example: "\"another-secret-12+\"") }
            valid = false
        case (nil, _?):
            if reader.table["mutual_username"] == nil { reader.missing("mutual_username", example: "\"target-user\"") }
            valid = false
        case (_?, let mutualSecret?):
            valid = Self.checkLength(of: mutualSecret, key: "mutual_secret", decoder: reader.decoder) && valid
            if mutualSecret.value == secret?.value {
                // RFC 7143 §12.1.3: a secret used to authenticate initiators MUST NOT
                // also authenticate targets; otherwise a reflection attack succeeds.
                reader.decoder.report(
                    "'mutual_secret' must differ from 'secret' (RFC 7143 §12.1.3)",
                    line: mutualSecret.line,
                    suggestion: "choose a different secret for the target's side"
                )
                valid = false
            }
        }
        guard valid, let username, let secret else { return nil }
        self.init(
            username: username.value,
            secret: secret.value,
            mutualUsername: mutualUsername?.value,
            mutualSecret: mutualSecret?.value
        )
    }

    private static func checkLength(of secret: Located<String>, key: String, decoder: ConfigurationDecoder) -> Bool {
        guard let (problem, suggestion) = lengthProblem(of: secret.value) else { return true }
        decoder.report("'\(key)' \(problem)", line: secret.line, suggestion: suggestion)
        return false
    }
}

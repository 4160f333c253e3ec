import Crypto

/// CHAP digest algorithms by their CHAP_A code (RFC 7143 §12.1.3; RFC 1994 for MD5, the
/// IANA PPP authentication algorithm registry for the SHA family used by Linux targets).
public enum CHAPAlgorithm: Int, Sendable, Hashable, CaseIterable {
    case md5 = 5
    case sha1 = 6
    case sha256 = 7
    case sha3_256 = 8

    /// The CHAP response: H(identifier || secret || challenge) (RFC 1994 §4.1).
    public func response(identifier: UInt8, secret: String, challenge: [UInt8]) -> [UInt8] {
        var input = [identifier]
        input += Array(secret.utf8)
        input += challenge
        switch self {
        case .md5: return Array(Insecure.MD5.hash(data: input))
        case .sha1: return Array(Insecure.SHA1.hash(data: input))
        case .sha256: return Array(SHA256.hash(data: input))
        case .sha3_256: return Array(SHA3_256.hash(data: input))
        }
    }

    /// Challenge length we send: the digest length, and never less than 16 bytes.
    public var challengeLength: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256, .sha3_256: 32
        }
    }
}

/// CHAP_C / CHAP_R values are binary, written as "0x" + hex or "0b" + base64
/// (RFC 7143 §6.1, binary-value encodings).
public enum CHAPBinary {
    /// Decodes "0x…"/"0X…" hex or "0b…"/"0B…" base64; nil when malformed.
    public static func decode(_ text: String) -> [UInt8]? {
        let body = text.dropFirst(2)
        switch text.prefix(2) {
        case "0x", "0X": return decodeHex(body)
        case "0b", "0B": return decodeBase64(body)
        default: return nil
        }
    }

    /// "0x" and lower-case hex digits.
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = "0x"
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return text
    }

    private static func decodeHex(_ body: Substring) -> [UInt8]? {
        var nibbles = body.compactMap { $0.hexDigitValue }
        guard nibbles.count == body.count, !nibbles.isEmpty else { return nil }
        // An odd number of digits has an implied leading zero (RFC 7143 §6.1).
        if nibbles.count % 2 == 1 { nibbles.insert(0, at: 0) }
        return stride(from: 0, to: nibbles.count, by: 2).map { UInt8(nibbles[$0] << 4 | nibbles[$0 + 1]) }
    }

    private static func decodeBase64(_ body: Substring) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var lookup = [UInt8: UInt32]()
        for (index, character) in alphabet.enumerated() { lookup[character] = UInt32(index) }
        let symbols = Array(body.utf8.filter { $0 != UInt8(ascii: "=") })
        var bytes: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in symbols {
            guard let value = lookup[symbol] else { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bytes.isEmpty ? nil : bytes
    }
}

/// CHAP credentials of one authentication domain (a target, or discovery sessions).
public struct CHAPCredentials: Sendable, Hashable {
    /// The name and secret the initiator must prove it knows (one-way CHAP).
    public var username: String
    public var secret: String
    /// For mutual CHAP: the name and secret the target answers with.
    public var mutualUsername: String?
    public var mutualSecret: String?

    public init(username: String, secret: String, mutualUsername: String? = nil, mutualSecret: String? = nil) {
        self.username = username
        self.secret = secret
        self.mutualUsername = mutualUsername
        self.mutualSecret = mutualSecret
    }
}

extension CHAPCredentials {
    /// RFC 7143 §12.1.3: a recorded CHAP exchange can be brute-forced offline, so a
    /// secret with fewer than 96 random bits may only be used where IPsec encryption is
    /// enforced. Swiftport runs no IPsec, so every secret needs at least 12 bytes (the
    /// Microsoft initiator enforces the same minimum on connections without IPsec).
    public static let minimumSecretLength = 12
    /// The longest secret we accept; initiators such as open-iscsi cap secrets near 256 bytes.
    public static let maximumSecretLength = 255

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

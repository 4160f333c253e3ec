import ISCSIProtocol
import Testing

/// Login/Text data segments (RFC 7143 §6.1): NUL-terminated key=value pairs.
@Suite("TextParameters (RFC 7143 §6.1)")
struct TextParametersTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("decodes pairs in order, keeping empty values and '=' inside values")
    func decode() throws {
        let text = try TextParameters(decoding: bytes("InitiatorName=iqn.2024-01.test:i\0X-com.example.k=a=b\0Empty=\0"))
        #expect(text.pairs.map(\.key) == ["InitiatorName", "X-com.example.k", "Empty"])
        #expect(text["InitiatorName"] == "iqn.2024-01.test:i")
        #expect(text["X-com.example.k"] == "a=b")
        #expect(text["Empty"] == "")
        #expect(text["Missing"] == nil)
        #expect(text.duplicateKeys.isEmpty)
    }

    @Test("tolerates a missing final NUL and stray NUL padding")
    func lenientTermination() throws {
        #expect(try TextParameters(decoding: bytes("A=1\0\0\0B=2")) == ["A": "1", "B": "2"])
        #expect(try TextParameters(decoding: []).isEmpty)
    }

    @Test("encodes each pair followed by NUL and round-trips")
    func encode() throws {
        var text = TextParameters()
        text.append("HeaderDigest", "CRC32C,None")
        text.append("MaxRecvDataSegmentLength", "65536")
        #expect(text.encoded == bytes("HeaderDigest=CRC32C,None\0MaxRecvDataSegmentLength=65536\0"))
        #expect(try TextParameters(decoding: text.encoded) == text)
    }

    @Test("reports duplicate keys (RFC 7143 §6.2), first occurrence wins")
    func duplicates() throws {
        let text = try TextParameters(decoding: bytes("A=1\0B=2\0A=3\0B=4\0A=5\0"))
        #expect(text.duplicateKeys == ["A", "B", "A"])
        #expect(text["A"] == "1")
    }

    @Test("order matters for equality")
    func equality() {
        let one: TextParameters = ["A": "1", "B": "2"]
        #expect(one == TextParameters([("A", "1"), ("B", "2")]))
        #expect(one != TextParameters([("B", "2"), ("A", "1")]))
    }

    @Test("malformed text is refused", arguments: [
        "NoEquals\0",
        "=value\0",
        String(repeating: "k", count: 64) + "=v\0",
        "K=" + String(repeating: "v", count: 8193) + "\0",
    ])
    func malformed(text: String) {
        let error = #expect(throws: ISCSIProtocolError.self) {
            _ = try TextParameters(decoding: Array(text.utf8))
        }
        #expect(error?.code == .malformedText)
    }

    @Test("limits are inclusive")
    func limits() throws {
        let key = String(repeating: "k", count: 63)
        let value = String(repeating: "v", count: 8192)
        let text = try TextParameters(decoding: Array("\(key)=\(value)\0".utf8))
        #expect(text[key] == value)
    }

    @Test("description hides CHAP secrets")
    func description() {
        let text: TextParameters = ["CHAP_A": "5", "CHAP_R": "0xabcdef", "AuthMethod": "CHAP"]
        #expect(text.description == "CHAP_A=5 CHAP_R=… AuthMethod=CHAP")
    }
}

import ISCSIProtocol
import ISCSISession
import Testing

/// The generic result functions of RFC 7143 §6.2 applied through the key table (§13).
@Suite("Negotiator (RFC 7143 §6.2, §13)")
struct NegotiatorTests {
    struct Offer: Sendable, CustomTestStringConvertible {
        let key: String
        let value: String
        let answer: String?
        var testDescription: String { "\(key)=\(value) → \(answer ?? "nothing")" }
    }

    /// Answers with the default policy: digests None,CRC32C; MaxBurstLength 1 MiB;
    /// FirstBurstLength 256 KiB; InitialR2T=No; ImmediateData=Yes; ERL 0; Time2Wait 2.
    static let defaultPolicyOffers: [Offer] = [
        // List (§6.2.1): the first offered value we support.
        Offer(key: "HeaderDigest", value: "CRC32C,None", answer: "CRC32C"),
        Offer(key: "HeaderDigest", value: "None,CRC32C", answer: "None"),
        Offer(key: "DataDigest", value: "MD5,CRC32C", answer: "CRC32C"),
        Offer(key: "DataDigest", value: "MD5", answer: "Reject"),
        Offer(key: "TaskReporting", value: "FastAbort,RFC3720", answer: "RFC3720"),
        // Minimum.
        Offer(key: "MaxBurstLength", value: "65536", answer: "65536"),
        Offer(key: "MaxBurstLength", value: "16777215", answer: "1048576"),
        Offer(key: "MaxOutstandingR2T", value: "8", answer: "1"),
        Offer(key: "ErrorRecoveryLevel", value: "2", answer: "0"),
        Offer(key: "MaxConnections", value: "4", answer: "1"),
        Offer(key: "DefaultTime2Retain", value: "0", answer: "0"),
        // Maximum.
        Offer(key: "DefaultTime2Wait", value: "0", answer: "2"),
        Offer(key: "DefaultTime2Wait", value: "10", answer: "10"),
        // Boolean AND / OR.
        Offer(key: "ImmediateData", value: "Yes", answer: "Yes"),
        Offer(key: "ImmediateData", value: "No", answer: "No"),
        Offer(key: "InitialR2T", value: "No", answer: "No"),
        Offer(key: "InitialR2T", value: "Yes", answer: "Yes"),
        Offer(key: "DataPDUInOrder", value: "No", answer: "Yes"),
        Offer(key: "IFMarker", value: "Yes", answer: "No"),
        // Unknown keys and private extensions (§6.2, §13.5.4 X- keys).
        Offer(key: "X-com.example.Frobnicate", value: "Yes", answer: "NotUnderstood"),
        Offer(key: "X#org.example.key", value: "1", answer: "NotUnderstood"),
        Offer(key: "NoSuchKey", value: "1", answer: "NotUnderstood"),
        // Out of range or malformed.
        Offer(key: "MaxBurstLength", value: "511", answer: "Reject"),
        Offer(key: "MaxBurstLength", value: "16777216", answer: "Reject"),
        Offer(key: "ErrorRecoveryLevel", value: "3", answer: "Reject"),
        Offer(key: "DefaultTime2Wait", value: "3601", answer: "Reject"),
        Offer(key: "FirstBurstLength", value: "lots", answer: "Reject"),
        Offer(key: "ImmediateData", value: "Maybe", answer: "Reject"),
        // Declarations get no answer, markers' intervals are Irrelevant.
        Offer(key: "MaxRecvDataSegmentLength", value: "65536", answer: nil),
        Offer(key: "InitiatorAlias", value: "host", answer: nil),
        Offer(key: "OFMarkInt", value: "2048~8192", answer: "Irrelevant"),
        // Answers to our own offers are not answered again.
        Offer(key: "HeaderDigest", value: "NotUnderstood", answer: nil),
        Offer(key: "MaxBurstLength", value: "Reject", answer: nil),
        Offer(key: "DataDigest", value: "Irrelevant", answer: nil),
    ]

    @Test("answers by the key's result function", arguments: defaultPolicyOffers)
    func answers(offer: Offer) throws {
        var negotiator = Negotiator(policy: NegotiationPolicy())
        #expect(try negotiator.answer(key: offer.key, value: offer.value) == offer.answer)
    }

    @Test("§13.12 a MaxRecvDataSegmentLength declaration out of range fails the login, never gets an answer")
    func invalidDeclaration() {
        var negotiator = Negotiator(policy: NegotiationPolicy())
        #expect(throws: Negotiator.Failure.invalidDeclaration(key: "MaxRecvDataSegmentLength", value: "511")) {
            try negotiator.answer(key: "MaxRecvDataSegmentLength", value: "511")
        }
    }

    @Test("policy decides list, AND and OR results")
    func policyDriven() throws {
        var policy = NegotiationPolicy()
        policy.headerDigests = ["None"]
        policy.immediateData = false
        policy.initialR2T = true
        var negotiator = Negotiator(policy: policy)
        #expect(try negotiator.answer(key: "HeaderDigest", value: "CRC32C") == "Reject")
        #expect(try negotiator.answer(key: "ImmediateData", value: "Yes") == "No")
        #expect(try negotiator.answer(key: "InitialR2T", value: "No") == "Yes")
        #expect(negotiator.parameters.immediateData == false)
        #expect(negotiator.parameters.initialR2T == true)
        #expect(negotiator.parameters.headerDigest == false)
    }

    @Test("results land in the operational parameters")
    func parameters() throws {
        var negotiator = Negotiator(policy: NegotiationPolicy())
        _ = try negotiator.answer(key: "HeaderDigest", value: "CRC32C")
        _ = try negotiator.answer(key: "DataDigest", value: "CRC32C")
        _ = try negotiator.answer(key: "MaxBurstLength", value: "131072")
        _ = try negotiator.answer(key: "FirstBurstLength", value: "65536")
        _ = try negotiator.answer(key: "MaxRecvDataSegmentLength", value: "32768")
        _ = try negotiator.answer(key: "DefaultTime2Wait", value: "5")
        let parameters = negotiator.parameters
        #expect(parameters.headerDigest && parameters.dataDigest)
        #expect(parameters.maxBurstLength == 131_072)
        #expect(parameters.firstBurstLength == 65536)
        #expect(parameters.peerMaxRecvDataSegmentLength == 32768)
        #expect(parameters.localMaxRecvDataSegmentLength == NegotiationPolicy().maxRecvDataSegmentLength)
        #expect(parameters.defaultTime2Wait == 5)
    }

    @Test("a key negotiated twice in one login is an error (§6.2)")
    func duplicateKey() throws {
        var negotiator = Negotiator(policy: NegotiationPolicy())
        _ = try negotiator.answer(key: "MaxBurstLength", value: "65536")
        #expect(throws: Negotiator.Failure.duplicateKey("MaxBurstLength")) {
            try negotiator.answer(key: "MaxBurstLength", value: "65536")
        }
        // Declarations may be repeated.
        _ = try negotiator.answer(key: "MaxRecvDataSegmentLength", value: "8192")
        _ = try negotiator.answer(key: "MaxRecvDataSegmentLength", value: "16384")
        #expect(negotiator.parameters.peerMaxRecvDataSegmentLength == 16384)
    }

    @Test("FirstBurstLength never exceeds MaxBurstLength (§13.14), in answers or parameters")
    func firstBurstBoundedByMaxBurst() throws {
        var negotiator = Negotiator(policy: NegotiationPolicy())
        #expect(try negotiator.answer(key: "MaxBurstLength", value: "16384") == "16384")
        let answer = try #require(try negotiator.answer(key: "FirstBurstLength", value: "65536"))
        #expect(Int(answer)! <= 16384)
        #expect(negotiator.parameters.firstBurstLength == 16384)

        var reversed = Negotiator(policy: NegotiationPolicy())
        _ = try reversed.answer(key: "FirstBurstLength", value: "65536")
        _ = try reversed.answer(key: "MaxBurstLength", value: "16384")
        #expect(reversed.parameters.firstBurstLength == 16384)
        #expect(reversed.parameters.maxBurstLength == 16384)
    }

    @Test("our MaxRecvDataSegmentLength is declared once per login (§13.12)")
    func declaration() {
        var policy = NegotiationPolicy()
        policy.maxRecvDataSegmentLength = 65536
        var negotiator = Negotiator(policy: policy)
        #expect(negotiator.declarationOfMaxRecvDataSegmentLength() == "65536")
        #expect(negotiator.declaredMaxRecvDataSegmentLength)
        #expect(negotiator.declarationOfMaxRecvDataSegmentLength() == nil)
    }

    @Test("the key table covers RFC 7143 §13 with consistent rows")
    func table() {
        for name in ["HeaderDigest", "DataDigest", "MaxConnections", "InitialR2T", "ImmediateData", "MaxRecvDataSegmentLength",
                     "MaxBurstLength", "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain", "MaxOutstandingR2T",
                     "DataPDUInOrder", "DataSequenceInOrder", "ErrorRecoveryLevel", "SessionType", "TargetName", "InitiatorName"] {
            #expect(NegotiationKey.table[name] != nil, "\(name) missing")
        }
        for key in NegotiationKey.table.values {
            if case .numeric(let range) = key.valueType, let value = Int(key.defaultValue) {
                #expect(range.contains(value), "\(key.name) default \(value) outside \(range)")
            }
            if key.rule == .booleanAnd || key.rule == .booleanOr { #expect(key.valueType == .boolean) }
            if key.rule == .minimum || key.rule == .maximum {
                guard case .numeric = key.valueType else {
                    Issue.record("\(key.name) is numeric-ruled but not numeric")
                    continue
                }
            }
        }
    }
}

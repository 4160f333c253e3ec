import ISCSIProtocol
import Testing

/// Serial number arithmetic (RFC 1982 §3.2) as RFC 7143 §4.2.2.1 uses it for CmdSN,
/// StatSN, DataSN and R2TSN.
@Suite("SequenceNumber (RFC 1982)")
struct SequenceNumberTests {
    struct Pair: Sendable, CustomTestStringConvertible {
        let lhs: UInt32
        let rhs: UInt32
        let precedes: Bool
        var testDescription: String { "\(lhs) \(precedes ? "<" : "≮") \(rhs)" }
    }

    static let pairs: [Pair] = [
        Pair(lhs: 0, rhs: 1, precedes: true),
        Pair(lhs: 1, rhs: 0, precedes: false),
        Pair(lhs: 5, rhs: 5, precedes: false),
        Pair(lhs: 0xFFFF_FFFF, rhs: 0, precedes: true),
        Pair(lhs: 0, rhs: 0xFFFF_FFFF, precedes: false),
        Pair(lhs: 0xFFFF_FFF0, rhs: 0x10, precedes: true),
        Pair(lhs: 0x10, rhs: 0xFFFF_FFF0, precedes: false),
        Pair(lhs: 0, rhs: 0x7FFF_FFFF, precedes: true),
        Pair(lhs: 0x7FFF_FFFF, rhs: 0, precedes: false),
        // Exactly 2^31 apart: undefined by RFC 1982, neither precedes.
        Pair(lhs: 0, rhs: 0x8000_0000, precedes: false),
        Pair(lhs: 0x8000_0000, rhs: 0, precedes: false),
        Pair(lhs: 0x8000_0000, rhs: 0xFFFF_FFFF, precedes: true),
        Pair(lhs: 0x7FFF_FFFF, rhs: 0x8000_0000, precedes: true),
    ]

    @Test("precedes", arguments: pairs)
    func precedes(pair: Pair) {
        #expect(SequenceNumber(pair.lhs).precedes(SequenceNumber(pair.rhs)) == pair.precedes)
        #expect(SequenceNumber(pair.lhs).precedesOrEquals(SequenceNumber(pair.rhs)) == (pair.precedes || pair.lhs == pair.rhs))
    }

    @Test("advanced(by:) wraps at 2^32")
    func advancedWraps() {
        #expect(SequenceNumber(0xFFFF_FFFF).advanced(by: 1) == SequenceNumber(0))
        #expect(SequenceNumber(0xFFFF_FFF0).advanced(by: 0x20) == SequenceNumber(0x10))
        #expect(SequenceNumber(7).advanced(by: 0) == SequenceNumber(7))
        #expect(SequenceNumber(0xFFFF_FFFF).precedes(SequenceNumber(0xFFFF_FFFF).advanced(by: 1)))
    }

    @Test("typed wire values print as the RFC names them")
    func descriptions() {
        #expect(ISID(rawValue: 0x4000_0137_0001).description == "0x400001370001")
        #expect(ISID(rawValue: 0x1).description == "0x000000000001")
        #expect(ISID(rawValue: 0xFFFF_FFFF_FFFF_FFFF).rawValue == 0xFFFF_FFFF_FFFF)
        #expect(ISCSILoginStatus.authenticationFailure.description == "0x201")
        #expect(ISCSILoginStatus.missingParameter.statusClass == 2 && ISCSILoginStatus.missingParameter.detail == 7)
    }
}

/// What a CHECK CONDITION says about the path it came down: the DSM's sense table.
enum PathSenseMeaning: Hashable, Sendable {
    /// About the LU or the command (MEDIUM ERROR, ILLEGAL REQUEST…): hand it to the requester.
    case notPathRelated
    /// Nothing wrong with the path, but the command did not run (unit attention consumed,
    /// ABORTED COMMAND): send it again.
    case retry
    /// The ALUA states changed: read them again (REPORT TARGET PORT GROUPS), then retry.
    case aluaStateChanged
    /// The port cannot serve media access in this ALUA state: move the I/O elsewhere.
    case portInaccessible(ALUAState)
    /// LOGICAL UNIT NOT READY through this path: fail the path and move the I/O.
    case pathNotReady

    /// One row of the table: `nil` matches any value.
    private struct Rule {
        var key: UInt8
        var asc: UInt8?
        var ascq: UInt8?
        var meaning: PathSenseMeaning
    }

    /// First match wins (SPC-4 Annex D, table D.2 names in the comments).
    private static let table: [Rule] = [
        // LOGICAL UNIT NOT ACCESSIBLE, ASYMMETRIC ACCESS STATE TRANSITION (§5.15.2.5)
        Rule(key: 0x02, asc: 0x04, ascq: 0x0A, meaning: .portInaccessible(.transitioning)),
        // LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE (§5.15.2.4.4)
        Rule(key: 0x02, asc: 0x04, ascq: 0x0B, meaning: .portInaccessible(.standby)),
        // LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE (§5.15.2.4.5)
        Rule(key: 0x02, asc: 0x04, ascq: 0x0C, meaning: .portInaccessible(.unavailable)),
        // LOGICAL UNIT NOT READY, any cause
        Rule(key: 0x02, asc: 0x04, ascq: nil, meaning: .pathNotReady),
        // ASYMMETRIC ACCESS STATE CHANGED (§5.15.2.3)
        Rule(key: 0x06, asc: 0x2A, ascq: 0x06, meaning: .aluaStateChanged),
        // IMPLICIT ASYMMETRIC ACCESS STATE TRANSITION FAILED
        Rule(key: 0x06, asc: 0x2A, ascq: 0x07, meaning: .aluaStateChanged),
        // POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (any qualifier)
        Rule(key: 0x06, asc: 0x29, ascq: nil, meaning: .retry),
        // ABORTED COMMAND (digest errors, data phase errors, aborted by the target)
        Rule(key: 0x0B, asc: nil, ascq: nil, meaning: .retry),
    ]

    init(_ sense: SenseCode) {
        let rule = Self.table.first { rule in
            rule.key == sense.key && (rule.asc ?? sense.asc) == sense.asc && (rule.ascq ?? sense.ascq) == sense.ascq
        }
        self = rule?.meaning ?? .notPathRelated
    }
}

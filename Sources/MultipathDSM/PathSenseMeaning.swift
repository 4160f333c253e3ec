import SCSIProtocol

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
    case portInaccessible(AsymmetricAccessState)
    /// LOGICAL UNIT NOT READY through this path: fail the path and move the I/O.
    case pathNotReady

    /// One row of the table: `nil` matches any value.
    private struct Rule {
        var key: SenseKey
        var asc: UInt8?
        var ascq: UInt8?
        var meaning: PathSenseMeaning

        init(key: SenseKey, asc: UInt8? = nil, ascq: UInt8? = nil, meaning: PathSenseMeaning) {
            self.key = key
            self.asc = asc
            self.ascq = ascq
            self.meaning = meaning
        }

        /// The row for exactly the code of `condition` (SCSIProtocol's table).
        init(_ condition: SenseCondition, meaning: PathSenseMeaning) {
            let code = condition.code
            self.init(key: code.key, asc: code.asc, ascq: code.ascq, meaning: meaning)
        }
    }

    /// First match wins (SPC-4 Annex D, table D.2).
    private static let table: [Rule] = [
        Rule(.logicalUnitNotAccessibleAsymmetricAccessStateTransition, meaning: .portInaccessible(.transitioning)),  // §5.15.2.5
        Rule(.logicalUnitNotAccessibleTargetPortInStandbyState, meaning: .portInaccessible(.standby)),  // §5.15.2.4.4
        Rule(.logicalUnitNotAccessibleTargetPortInUnavailableState, meaning: .portInaccessible(.unavailable)),  // §5.15.2.4.5
        // LOGICAL UNIT NOT READY, any cause
        Rule(key: .notReady, asc: 0x04, meaning: .pathNotReady),
        Rule(.asymmetricAccessStateChanged, meaning: .aluaStateChanged),  // §5.15.2.3
        // IMPLICIT ASYMMETRIC ACCESS STATE TRANSITION FAILED (2Ah/07h), which this
        // device server never reports
        Rule(key: .unitAttention, asc: 0x2A, ascq: 0x07, meaning: .aluaStateChanged),
        // POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (any qualifier)
        Rule(key: .unitAttention, asc: 0x29, meaning: .retry),
        // Any other unit attention (REPORTED LUNS DATA HAS CHANGED when a LUN comes or
        // goes, CAPACITY DATA HAS CHANGED, MODE PARAMETERS CHANGED): the command was not
        // run and is run again, as Linux's SCSI midlayer does (SAM-5 §5.14).
        Rule(key: .unitAttention, meaning: .retry),
        // ABORTED COMMAND (digest errors, data phase errors, aborted by the target)
        Rule(key: .abortedCommand, meaning: .retry),
    ]

    init(_ sense: SenseCode) {
        let rule = Self.table.first { rule in
            rule.key == sense.key && (rule.asc ?? sense.asc) == sense.asc && (rule.ascq ?? sense.ascq) == sense.ascq
        }
        self = rule?.meaning ?? .notPathRelated
    }
}

import SCSIProtocol

/// How an I/O sent down a path ended, as far as the path is concerned.
public enum IOOutcome: Hashable, Sendable {
    /// A status other than CHECK CONDITION came back (GOOD, BUSY, RESERVATION
    /// CONFLICT, TASK SET FULL): the path works; the status goes to the requester.
    case completed
    /// CHECK CONDITION with this sense: read through the sense table.
    case checkCondition(SenseCode)
    /// No status: the connection dropped, the task timed out or was aborted by recovery.
    case transportError
}

/// The device server's answer to a task management function (SAM-5 §7.11, mapped by
/// the port layer to an iSCSI TMF response code, RFC 7143 §11.6.1).
public enum TaskManagementOutcome: Sendable, Hashable {
    /// FUNCTION COMPLETE.
    case functionComplete
    /// The LUN addresses no logical unit (iSCSI response 1).
    case logicalUnitDoesNotExist
    /// The function is not supported or not allowed (iSCSI response 5).
    case functionRejected
}

import SCSIProtocol

/// Evidence about one path that did not come from ``MultipathDevice/endIO(path:blocks:outcome:now:)``:
/// fed to ``MultipathDevice/handle(_:on:now:)``.
public enum PathEvent: Hashable, Sendable {
    /// The result of a path checker TEST UNIT READY (SPC-4 §6.47).
    public enum CheckResult: Hashable, Sendable {
        /// GOOD (or any status other than CHECK CONDITION): the path reaches the LU.
        case ready
        /// CHECK CONDITION with this sense: read through the sense table.
        case sense(SenseCode)
        /// No answer: the connection dropped, the session failed, or the check timed out.
        case unreachable
    }

    /// The session or connection behind the path failed (logout, reset, timeout).
    case transportError
    /// A command outside the DSM's I/O accounting ended in CHECK CONDITION with this sense.
    case sense(SenseCode)
    /// The path checker's TEST UNIT READY finished.
    case checked(CheckResult)
}

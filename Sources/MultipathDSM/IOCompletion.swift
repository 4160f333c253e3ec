/// What to do with an I/O that ended on a path
/// (``MultipathDevice/endIO(path:blocks:outcome:now:)``), plus any work the ending caused.
public struct IOCompletion: Hashable, Sendable {
    /// The I/O's fate.
    public enum Disposition: Hashable, Sendable {
        /// Hand the status (and data) to the requester.
        case complete
        /// Send the same command again down this path (call `beginIO` for it); it was
        /// chosen by the policy after the failed path was taken out.
        case retry(PathID)
        /// No usable path left: hold the I/O (see ``IORoute/queue``).
        case queue
        /// No usable path and no more waiting.
        case fail(MultipathDSMError)
    }

    public var disposition: Disposition
    /// Follow-up work, in order (typically ``DeviceAction/refreshALUA(via:)``).
    public var actions: [DeviceAction]

    public init(_ disposition: Disposition, actions: [DeviceAction] = []) {
        self.disposition = disposition
        self.actions = actions
    }
}

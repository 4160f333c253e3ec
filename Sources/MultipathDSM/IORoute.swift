/// Where a new I/O goes (``MultipathDevice/route()``).
public enum IORoute: Hashable, Sendable {
    /// Send it down this path (call ``MultipathDevice/beginIO(path:blocks:)`` first).
    case send(PathID)
    /// No usable path: hold it until ``DeviceAction/resumeQueuedIO`` or ``DeviceAction/failQueuedIO(_:)``.
    case queue
    /// No usable path and no more waiting: fail it with this error.
    case fail(MultipathDSMError)
}

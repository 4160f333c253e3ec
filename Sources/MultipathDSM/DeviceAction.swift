/// Work a device asks its caller (RemoteLUN) to carry out; the DSM does no I/O itself.
public enum DeviceAction: Hashable, Sendable {
    /// Send REPORT TARGET PORT GROUPS down this path and feed the answer to
    /// ``MultipathDevice/updateALUA(_:now:)``.
    case refreshALUA(via: PathID)
    /// A path is usable again: route every held I/O through ``MultipathDevice/route()``.
    case resumeQueuedIO
    /// The no-path retry time ran out: fail every held I/O with this error.
    case failQueuedIO(MultipathDSMError)
}

/// What happens to I/O while a device has no usable path (dm-multipath's
/// `no_path_retry`; MSDSM's PDORemovePeriod).
public enum NoPathRetry: Hashable, Sendable, CustomStringConvertible {
    /// Fail I/O at once.
    case fail
    /// Hold I/O this long for a path to come back, then fail it.
    case queue(for: Duration)
    /// Hold I/O until a path comes back, however long that takes.
    case queueIndefinitely

    public var description: String {
        switch self {
        case .fail: "fail"
        case .queue(let duration): "queue \(duration.renderedSeconds)"
        case .queueIndefinitely: "queue"
        }
    }
}

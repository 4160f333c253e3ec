/// When I/O goes back to a recovered path that outranks the paths carrying it now
/// (dm-multipath's `failback`; MSDSM's failback for Fail Over Only).
public enum FailbackPolicy: Hashable, Sendable, CustomStringConvertible {
    /// As soon as the path checks healthy.
    case immediate
    /// Only when an administrator asks (``MultipathDevice/failback()``), or when no
    /// other path is left.
    case manual
    /// Once the path has kept checking healthy for this long; flapping paths stay out.
    case after(Duration)

    public var description: String {
        switch self {
        case .immediate: "immediate"
        case .manual: "manual"
        case .after(let delay): "after \(delay.renderedSeconds)"
        }
    }
}

extension Duration {
    /// `30s`, `1.5s`: the short form operators read in configs.
    var renderedSeconds: String {
        let (seconds, attoseconds) = components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        guard milliseconds != 0 else { return "\(seconds)s" }
        var fraction = String(milliseconds)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return "\(seconds).\(fraction)s"
    }
}

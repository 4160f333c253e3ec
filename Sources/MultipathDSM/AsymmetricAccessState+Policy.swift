import SCSIProtocol

/// How the DSM reads an asymmetric access state (SPC-4 §5.15.2.4).
extension AsymmetricAccessState {
    /// Whether media-access commands (READ, WRITE) are sent through a port in this
    /// state. Logical block dependent is treated as active: the blocks it refuses fail
    /// with sense the sense table reads like any other.
    public var servesIO: Bool {
        switch self {
        case .activeOptimized, .activeNonOptimized, .logicalBlockDependent: true
        case .standby, .unavailable, .offline, .transitioning: false
        }
    }
}

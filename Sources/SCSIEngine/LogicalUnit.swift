import BlockStorage
import NIOConcurrencyHelpers
import SCSIProtocol

/// One logical unit at run time: its fixed configuration plus the small mutable state
/// SPC keeps per logical unit (mode parameters, unit attentions), behind a lock that
/// is never held across an `await`.
final class LogicalUnit: Sendable {
    /// Mutable state of the logical unit.
    struct State: Sendable {
        /// WCE of the caching mode page (SBC-3 §6.4.5).
        var writeCacheEnabled: Bool
        var unitAttentions = UnitAttentionState()
    }

    let descriptor: LogicalUnitDescriptor
    let number: LogicalUnitNumber
    let geometry: BlockGeometry
    let limits: BlockLimits
    private let state: NIOLockedValueBox<State>

    init(_ descriptor: LogicalUnitDescriptor) {
        self.descriptor = descriptor
        self.number = LogicalUnitNumber(rawValue: descriptor.lun)
        self.geometry = descriptor.device.geometry
        self.limits = DeviceServerLimits.blockLimits(for: geometry, unmapSupported: descriptor.device.supportsUnmap)
        self.state = NIOLockedValueBox(State(writeCacheEnabled: descriptor.writeCacheEnabled))
    }

    var device: any BlockDevice { descriptor.device }

    /// The current WCE.
    var writeCacheEnabled: Bool {
        state.withLockedValue { $0.writeCacheEnabled }
    }

    /// Runs `body` on the locked state.
    func withState<T>(_ body: (inout State) -> T) -> T {
        state.withLockedValue(body)
    }

    /// Mode parameters back to their defaults (SAM-5 §6.3.3, logical unit reset).
    func resetModeParameters() {
        state.withLockedValue { $0.writeCacheEnabled = descriptor.writeCacheEnabled }
    }
}

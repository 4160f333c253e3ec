import BlockStorage
import NIOConcurrencyHelpers
import SCSIProtocol
import Synchronization

/// One logical unit at run time: its fixed configuration plus the small mutable state
/// SPC keeps per logical unit (mode parameters, unit attentions), behind a lock that
/// is never held across an `await`.
final class LogicalUnit: Sendable {
    /// Mutable state of the logical unit.
    struct State: Sendable {
        /// D_SENSE of the control mode page: sense data in descriptor format (SPC-4 §7.5.8).
        var descriptorSense = false
        var unitAttentions = UnitAttentionState()
        /// Registrations and the persistent reservation (SPC-4 §5.12).
        var reservations = PersistentReservations()
        /// The version of the unit's record in the ``ReservationStore`` that
        /// `reservations` was loaded from or last saved as; nil: there is no record.
        var reservationRecordVersion: ReservationRecord.Version?
        /// The I_T nexus holding a RESERVE(6)/(10) reservation (SPC-2 §5.5.1).
        var spc2ReservationHolder: ITNexus?
        /// The asymmetric access state through each target port group (SPC-4 §5.15).
        var accessStates: TargetPortGroupStates
        /// Removed from its target device: commands still reaching it are refused.
        var removed = false
        /// Its backend was fenced off the storage (``BlockStorageError/Code/fenced``):
        /// commands that need the medium are refused from then on.
        var fenced = false
        /// Owner mode: the target port group of the gateway the shared record names as
        /// the unit's owner; nil: none (yet).
        var owner: UInt16?
        /// When this device server learned that `owner` changed.
        var ownerChanged: ContinuousClock.Instant?

        /// Why a command with `access` may not run through `nexus`'s target port group
        /// in its current asymmetric access state (SPC-4 §5.15.2.4); nil if it may.
        func refusal(of access: ALUAAccess, through nexus: ITNexus) -> SenseCondition? {
            // Fenced, the unit serves what a port in standby would: nothing that reads
            // or writes the medium (TEST UNIT READY among it, so path checkers see it).
            if fenced, access == .active { return .logicalUnitNotReadyManualInterventionRequired }
            return access.refusal(in: accessStates.state(through: nexus))
        }
    }

    let descriptor: LogicalUnitDescriptor
    let number: LogicalUnitNumber
    let limits: BlockLimits
    /// Orders exclusive commands against all others (COMPARE AND WRITE atomicity).
    let gate = LogicalUnitGate()
    private let state: NIOLockedValueBox<State>
    /// WCE of the caching mode page (SBC-3 §6.4.5). Every write reads it, from every
    /// session of the unit, so it is an atomic beside the locked state; it changes
    /// under the lock with D_SENSE (``setModeParameters(writeCacheEnabled:descriptorSense:)``).
    private let writeCache: Synchronization.Atomic<Bool>
    /// Logical block provisioning is offered (UNMAP, WRITE SAME with UNMAP, LBPME, VPD
    /// 0xB2) only when the unit is configured thin, the backend can deallocate and the
    /// unit is writable: a read-only unit has nothing to unmap (SBC-3 §4.7).
    let isThinProvisioned: Bool
    /// Owner mode (``LogicalUnitDescriptor/homeTargetPortGroup``): the medium whose
    /// exclusive lock this gateway holds while it owns the unit; nil otherwise.
    let lockedMedium: (any ExclusiveLockDevice)?
    /// This device server holds `lockedMedium`'s lock: medium writes go ahead. Read by
    /// every write of an owner-mode unit, so an atomic beside the locked state.
    let holdsLock = Synchronization.Atomic<Bool>(false)
    /// Orders taking and giving up the lock (held across the librbd calls, never
    /// across a wait for another gateway), so a take and a release never cross.
    let lockTransitions = LogicalUnitGate()

    init(
        _ descriptor: LogicalUnitDescriptor, reservations: PersistentReservations = PersistentReservations(),
        reservationRecordVersion: ReservationRecord.Version? = nil, targetPortGroups: [TargetPortGroupDescriptor] = []
    ) {
        self.descriptor = descriptor
        self.writeCache = Synchronization.Atomic(descriptor.writeCacheEnabled)
        self.number = LogicalUnitNumber(rawValue: descriptor.lun)
        self.isThinProvisioned = descriptor.thinProvisioning && descriptor.device.supportsUnmap && !descriptor.readOnly
        let medium = (descriptor.device as? any ExclusiveLockDevice).flatMap {
            descriptor.homeTargetPortGroup != nil && $0.requiresExclusiveLock ? $0 : nil
        }
        self.lockedMedium = medium
        let geometry = descriptor.device.geometry
        self.blockSize = geometry.blockSize
        self.limits = DeviceServerLimits.blockLimits(for: geometry, unmapSupported: isThinProvisioned)
        var initial = State(
            reservations: reservations, reservationRecordVersion: reservationRecordVersion,
            accessStates: TargetPortGroupStates(targetPortGroups))
        if medium != nil {
            // No owner known yet: every group non-optimized until the record names one.
            _ = initial.accessStates.apply(TargetPortGroupStates.ownerMode(owner: nil, preferred: nil, of: targetPortGroups), as: .none)
        }
        self.state = NIOLockedValueBox(initial)
    }

    /// The name of this logical unit's record in a ``ReservationStore``: its NAA
    /// designator in hex, which is stable across restarts and LUN renumbering.
    var reservationRecordName: String { Self.reservationRecordName(of: descriptor) }

    /// ``reservationRecordName`` for a logical unit not built yet.
    static func reservationRecordName(of descriptor: LogicalUnitDescriptor) -> String {
        descriptor.naaIdentifier.map { String($0 >> 4, radix: 16) + String($0 & 0x0F, radix: 16) }.joined()
    }

    var device: any BlockDevice { descriptor.device }

    /// The medium's current shape: the backend's, which changes on an online resize
    /// (the block size never does, so `limits` stay valid).
    var geometry: BlockGeometry { descriptor.device.geometry }

    /// Bytes per logical block, fixed for the life of the unit: read without asking the
    /// backend (which takes its lock for the block count) on every command.
    let blockSize: Int

    /// The current WCE.
    var writeCacheEnabled: Bool {
        writeCache.load(ordering: .relaxed)
    }

    /// Sets WCE and D_SENSE together (MODE SELECT); whether either changed.
    func setModeParameters(writeCacheEnabled: Bool, descriptorSense: Bool) -> Bool {
        state.withLockedValue { state in
            let changed = writeCache.load(ordering: .relaxed) != writeCacheEnabled || state.descriptorSense != descriptorSense
            writeCache.store(writeCacheEnabled, ordering: .relaxed)
            state.descriptorSense = descriptorSense
            return changed
        }
    }

    /// Runs `body` on the locked state.
    func withState<T>(_ body: (inout State) -> T) -> T {
        state.withLockedValue(body)
    }

    /// The current D_SENSE.
    var descriptorSense: Bool {
        state.withLockedValue { $0.descriptorSense }
    }

    /// Mode parameters back to their defaults (SAM-5 §6.3.3, logical unit reset).
    func resetModeParameters() {
        _ = setModeParameters(writeCacheEnabled: descriptor.writeCacheEnabled, descriptorSense: false)
    }
}

import BlockStorage
import Logging
import SCSIProtocol
import Synchronization

/// This gateway's part in a cluster that shares owner-mode logical units
/// (``LogicalUnitDescriptor/homeTargetPortGroup``).
public struct SharedOwnership: Sendable, Equatable {
    /// The target port group of this gateway's portals.
    public var localTargetPortGroup: UInt16
    /// A unit moves back to its home gateway when that one starts again; off, it stays
    /// with the gateway that took it over until a write through another moves it.
    public var failback: Bool

    public init(localTargetPortGroup: UInt16, failback: Bool) {
        self.localTargetPortGroup = localTargetPortGroup
        self.failback = failback
    }
}

/// Who owns an owner-mode logical unit, as ``SCSITargetDevice/ownershipStatus`` reports it.
public struct UnitOwnership: Sendable, Hashable, Codable {
    public var lun: UInt16
    /// The owning gateway's target port group; nil: none now.
    public var owner: UInt16?
    /// The home gateway's target port group.
    public var home: UInt16
    /// This gateway holds the medium's exclusive lock.
    public var holdsLock: Bool
}

/// Owner mode: logical units whose medium only one gateway of a cluster writes at a
/// time (an rbd image with the exclusive-lock feature). The unit's shared record names
/// its owner; the owner's target port group is active/optimized, the others
/// active/non-optimized (``TargetPortGroupStates/ownerMode(owner:home:of:)``), and the
/// owner holds the medium's lock, so the storage refuses every other gateway's writes.
///
/// A unit changes owner by a change of its record, published like a reservation change:
/// every other gateway applies it, and the one that owned the unit gives the lock up,
/// before the new owner takes the lock (breaking it from a gateway that was fenced
/// instead). It moves when a write arrives through a non-owner (the host chose that
/// path, SPC-4 §5.15.2.2: an implicit transition), when the owner is fenced (the gateway
/// that fenced it takes over), when a gateway starts and the unit is its home
/// (failback) or has no owner, and when the owner stops cleanly (it leaves the unit
/// without one, and the others claim it). Every gateway then establishes ASYMMETRIC
/// ACCESS STATE CHANGED for its I_T nexuses.
extension SCSITargetDevice {
    /// How long a unit stays with the gateway it just moved to before a write through
    /// another moves it again: a host that spreads writes over every path (round robin
    /// on active/non-optimized paths too) would otherwise move it back and forth with
    /// every few writes. Writes meanwhile get NOT READY, ASYMMETRIC ACCESS STATE
    /// TRANSITION, which sends the host to the optimized path.
    static let ownerHoldOff = Duration.seconds(2)

    /// A write through this gateway, which does not hold the unit's lock: the unit
    /// moves here (an implicit transition, SPC-4 §5.15.2.2) unless it just moved.
    func takeOver(_ unit: LogicalUnit) async throws(SenseData) {
        let justMoved = unit.withState { state in
            state.owner != nil && state.owner != ownership?.localTargetPortGroup
                && state.ownerChanged.map { ContinuousClock.now - $0 < Self.ownerHoldOff } == true
        }
        if justMoved { throw SenseData(.logicalUnitNotAccessibleAsymmetricAccessStateTransition) }
        try await becomeOwner(of: unit, "a write through it")
    }

    /// Makes this gateway the owner of `unit`, if `condition` holds for the owner the
    /// latest record names (nil: none), and takes the medium's lock; `reason` is for
    /// the log. Throws NOT READY, ASYMMETRIC ACCESS STATE TRANSITION when the unit
    /// could not be taken over (the host retries).
    func becomeOwner(
        of unit: LogicalUnit, _ reason: String, when condition: @Sendable (UInt16?) -> Bool = { _ in true }
    ) async throws(SenseData) {
        guard let ownership, let store = sharedReservationStore, let medium = unit.lockedMedium else { return }
        let local = ownership.localTargetPortGroup
        let status = try await changeShared(unit, in: store, by: nil, "take ownership (\(reason))") { state throws(SenseData) in
            guard state.owner != local, condition(state.owner) else { return .unchanged }
            state.owner = local
            return .changed()
        }
        guard status == .good else { throw SenseData(.logicalUnitNotAccessibleAsymmetricAccessStateTransition) }
        await unit.lockTransitions.enter(exclusive: true)
        defer { unit.lockTransitions.leave(exclusive: true) }
        // Decided under the transitions' gate: a change handing the unit on that was
        // applied meanwhile is either seen here, or waits for this take to finish and
        // then gives the lock up again.
        guard unit.withState({ $0.owner }) == local, !unit.holdsLock.load(ordering: .acquiring) else { return }
        do {
            try await medium.acquireExclusiveLock()
        } catch {
            logger.error("cannot take the medium's exclusive lock", metadata: ["lun": "\(unit.number)", "error": "\(error)"])
            throw SenseData(.logicalUnitNotAccessibleAsymmetricAccessStateTransition)
        }
        unit.holdsLock.store(true, ordering: .releasing)
        logger.notice(
            "took over the logical unit: this gateway writes it now",
            metadata: ["lun": "\(unit.number)", "tpg": "\(local)", "because": "\(reason)"])
    }

    /// Gives the medium's lock up if the record names another owner now (or none),
    /// once the commands admitted to the unit have left; true when this gateway holds
    /// the lock only if it owns the unit. A unit left without an owner is claimed.
    func followOwner(_ unit: LogicalUnit) async -> Bool {
        guard let ownership, unit.lockedMedium != nil else { return true }
        let owner = unit.withState { $0.owner }
        if owner == nil { claim(unit, "it was left without an owner") { $0 == nil } }
        guard owner != ownership.localTargetPortGroup else { return true }
        return await releaseLock(of: unit)
    }

    /// Lets a take of the lock in progress finish and the commands in `unit` leave,
    /// then gives the lock up if the record names another owner (or none); false when
    /// librbd would not, and then this gateway must be fenced. Decided under the
    /// transitions' gate: a lock taken after the check would be broken by the new
    /// owner, fencing this gateway.
    private func releaseLock(of unit: LogicalUnit) async -> Bool {
        guard let medium = unit.lockedMedium else { return true }
        await unit.lockTransitions.enter(exclusive: true)
        defer { unit.lockTransitions.leave(exclusive: true) }
        let owner = unit.withState { $0.owner }
        guard unit.holdsLock.load(ordering: .acquiring), owner != ownership?.localTargetPortGroup else { return true }
        await unit.gate.enter(exclusive: true)
        defer { unit.gate.leave(exclusive: true) }
        unit.holdsLock.store(false, ordering: .releasing)
        do {
            try await medium.releaseExclusiveLock()
        } catch {
            logger.critical(
                "cannot give the medium's exclusive lock up to the new owner; not acknowledging, so the cluster fences this gateway",
                metadata: ["lun": "\(unit.number)", "error": "\(error)"])
            return false
        }
        logger.notice(
            "handed the logical unit over: another gateway writes it now",
            metadata: ["lun": "\(unit.number)", "owner_tpg": "\(owner.map(String.init) ?? "none")"])
        return true
    }

    /// Takes `unit` over in a task of its own, if `condition` holds: for what happens
    /// outside a command (a start, a fence, a change heard), which must not wait for
    /// the other gateways where it is (a change handler waiting for a publication of
    /// its own would wait for itself).
    private func claim(_ unit: LogicalUnit, _ reason: String, when condition: @escaping @Sendable (UInt16?) -> Bool) {
        guard !ownershipRelinquished.load(ordering: .relaxed) else { return }
        Task {
            do throws(SenseData) {
                try await becomeOwner(of: unit, reason, when: condition)
            } catch {
                logger.warning("cannot take the logical unit over", metadata: ["lun": "\(unit.number)", "because": "\(reason)"])
            }
        }
    }

    /// At start (and when a unit is added): a unit this gateway owned before a restart
    /// (its lock is held by the old client, now broken), that has no owner, or (with
    /// failback) whose home this gateway is, is taken over.
    func claimOwnership(of units: [LogicalUnit]) {
        guard let ownership else { return }
        let local = ownership.localTargetPortGroup
        for unit in units where unit.lockedMedium != nil {
            let home = unit.descriptor.homeTargetPortGroup == local && ownership.failback
            claim(unit, home ? "it is this gateway's home unit" : "this gateway started") { owner in
                owner == nil || owner == local || home
            }
        }
    }

    /// The gateway serving target port group `tag` was fenced: the units it owned are
    /// taken over here.
    func ownerLost(_ tag: UInt16) {
        for unit in units where unit.lockedMedium != nil && unit.withState({ $0.owner }) == tag {
            claim(unit, "its owner (target port group \(tag)) was fenced") { $0 == tag }
        }
    }

    /// At a clean stop, once the sessions have ended: every unit this gateway owns is
    /// left without an owner and its lock given up, so another gateway takes it over
    /// at once instead of at the hosts' first write.
    public func relinquishOwnership() async {
        guard let ownership, let store = sharedReservationStore else { return }
        ownershipRelinquished.store(true, ordering: .relaxed)
        let local = ownership.localTargetPortGroup
        for unit in units where unit.lockedMedium != nil && unit.withState({ $0.owner }) == local {
            _ = try? await changeShared(unit, in: store, by: nil, "leave the unit at a stop") { state throws(SenseData) in
                guard state.owner == local else { return .unchanged }
                state.owner = nil
                return .changed()
            }
            _ = await releaseLock(of: unit)
        }
    }

    /// The owner-mode units, by LUN.
    public var ownershipStatus: [UnitOwnership] {
        units.compactMap { unit in
            guard unit.lockedMedium != nil, let home = unit.descriptor.homeTargetPortGroup else { return nil }
            return UnitOwnership(
                lun: unit.number.rawValue, owner: unit.withState { $0.owner }, home: home,
                holdsLock: unit.holdsLock.load(ordering: .acquiring))
        }
    }
}

import Logging
import SCSIProtocol

/// Reservations shared with the device servers of other gateways
/// (``SharedReservationStore``): persistent reservations, RESERVE(6)/(10)
/// reservations, and the logical unit resets that end the latter, so that a logical
/// unit exported by several gateways behaves as one (SPC-4 §5.12, SPC-2 §5.5.1).
extension SCSITargetDevice {
    /// What a change to the shared state did.
    enum SharedOutcome: Equatable {
        /// RESERVATION CONFLICT; nothing changed.
        case conflict
        /// GOOD; nothing to save.
        case unchanged
        /// GOOD once saved and published, with the unit attentions it establishes for
        /// registrants and, for a reset, for every I_T nexus; `aborting`: PREEMPT AND
        /// ABORT, whose preempted nexuses' tasks every gateway aborts.
        case changed(notices: [PersistentReservations.Notice] = [], reset: SenseCondition? = nil, aborting: Bool = false)
    }

    /// Most times a change starts again from the latest record because another
    /// gateway changed it first; then BUSY, and the initiator retries.
    static let maximumSharedAttempts = 16

    /// Performs `change` on the unit's latest shared state, saves it if nobody changed
    /// the record meanwhile (otherwise again from the new latest), applies it here
    /// and publishes it: the status is returned only once every live gateway applied
    /// it, so the next command through any of them is judged by it. `change` throws
    /// to end the command with that sense, changing nothing.
    func changeShared(
        _ unit: LogicalUnit, in store: any SharedReservationStore, by nexus: ITNexus?, _ what: String,
        _ change: (inout SharedReservationState) throws(SenseData) -> SharedOutcome
    ) async throws(SenseData) -> SCSIStatus {
        let name = unit.reservationRecordName
        var metadata: Logger.Metadata = ["lun": "\(unit.number)", "action": "\(what)"]
        if let nexus { metadata["nexus"] = "\(nexus)" }
        for _ in 0..<Self.maximumSharedAttempts {
            let latest: ReservationRecord?
            do {
                latest = try await store.load(name)
            } catch {
                logger.error("cannot read the shared reservations", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                throw SenseData(.internalTargetFailure)
            }
            if let latest { apply(ReservationChange(name: name, record: latest), to: unit, issuedThrough: nil) }
            var state = latest.flatMap { SharedReservationState(serialized: $0.text) } ?? SharedReservationState()
            let outcome = try change(&state)
            guard case .changed(let notices, let reset, let aborting) = outcome else {
                return outcome == .conflict ? .reservationConflict : .good
            }
            let text = state.serialized
            let published: ReservationChange
            do {
                let version = try await store.save(text, as: name, replacing: latest?.version)
                published = ReservationChange(
                    name: name, record: ReservationRecord(text: text, version: version), notices: notices, reset: reset,
                    abortsPreempted: aborting)
            } catch let error as SCSIEngineError where error.code == .reservationStoreConflict {
                logger.debug("shared reservations changed meanwhile; again from the latest", metadata: metadata)
                continue
            } catch {
                logger.error("cannot save the shared reservations", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                throw SenseData(.internalTargetFailure)
            }
            apply(published, to: unit, issuedThrough: nexus)
            do {
                try await store.publish(published)
            } catch {
                // Saved and in effect here, but not known to be applied everywhere.
                logger.error(
                    "reservation change saved but not confirmed by every gateway", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                throw SenseData(.internalTargetFailure)
            }
            logger.info("shared reservations changed", metadata: metadata.merging(["version": "\(published.record.version)"]) { $1 })
            return .good
        }
        logger.warning("shared reservations too contended; answering BUSY", metadata: metadata)
        return .busy
    }

    /// Installs a shared record newer than the unit's and establishes the unit
    /// attentions of its notices, for every matching nexus but the one that issued it
    /// (nil: it came from another gateway); a reset also sets the mode parameters back
    /// (SAM-5 §7.7). An older or the same record changes nothing.
    func apply(_ change: ReservationChange, to unit: LogicalUnit, issuedThrough issuer: ITNexus?) {
        let state = SharedReservationState(serialized: change.record.text) ?? SharedReservationState()
        let installed = unit.withState { unitState -> Bool in
            if let current = unitState.reservationRecordVersion, current.rawValue >= change.record.version.rawValue { return false }
            unitState.reservations = state.reservations
            unitState.spc2ReservationHolder = state.spc2Holder
            unitState.reservationRecordVersion = change.record.version
            // States set through any gateway (SPC-4 §5.15.2.2: every I_T nexus told, but
            // the one whose SET TARGET PORT GROUPS set them).
            var statesChanged = false
            for (tag, entry) in state.accessStates where unit.lockedMedium == nil {
                let change = TargetPortGroupStates.Change(targetPortGroup: tag, state: entry.state, preferred: entry.preferred)
                statesChanged = unitState.accessStates.apply([change], as: entry.cause) || statesChanged
            }
            if statesChanged { unitState.unitAttentions.establish(.asymmetricAccessStateChanged, except: issuer) }
            if unit.lockedMedium != nil, let home = unit.descriptor.homeTargetPortGroup, unitState.owner != state.owner {
                // Learning the first owner is no move (ownerHoldOff).
                if unitState.owner != nil { unitState.ownerChanged = .now }
                unitState.owner = state.owner
                // The owner moved: an implicit transition, told to every I_T nexus (SPC-4 §5.15.2.2).
                let preferred = ownership?.failback == true ? home : nil
                if unitState.accessStates.apply(TargetPortGroupStates.ownerMode(owner: state.owner, preferred: preferred, of: targetPortGroups), as: .implicit) {
                    unitState.unitAttentions.establish(.asymmetricAccessStateChanged, except: nil)
                }
            }
            for notice in change.notices {
                unitState.unitAttentions.establish(notice.condition) { candidate in
                    candidate != issuer && notice.registrants.contains { $0.matches(candidate) }
                }
            }
            if let reset = change.reset { unitState.unitAttentions.establish(reset, except: nil) }
            return true
        }
        if installed && change.reset != nil && issuer == nil { unit.resetModeParameters() }
    }

    /// Reads the shared records of `units` again and applies the newer ones, so that a
    /// change published between a unit's load and the moment this device server could
    /// hear of it (its handler registered, the unit in the table) is not missed.
    func catchUpSharedReservations(of units: [LogicalUnit]) async {
        guard let store = sharedReservationStore else { return }
        for unit in units {
            do {
                if let record = try await store.load(unit.reservationRecordName) {
                    apply(ReservationChange(name: unit.reservationRecordName, record: record), to: unit, issuedThrough: nil)
                    _ = await followOwner(unit)
                }
            } catch {
                logger.error("cannot read the shared reservations", metadata: ["lun": "\(unit.number)", "error": "\(error)"])
            }
        }
    }

    /// Every I_T nexus through target port group `tag` is lost: the gateway serving it
    /// was fenced. The RESERVE(6)/(10) reservations held through it are released in
    /// the shared record (SPC-2 §5.5.1, I_T nexus loss), or no other initiator could
    /// reserve the unit again; registrations and persistent reservations stay (SPC-4
    /// §5.12.1). Without a shared store there is nothing to do: this device server's
    /// own nexuses end one by one (``nexusLogout(_:)``).
    public func targetPortGroupLost(_ tag: UInt16) async {
        guard let shared = sharedReservationStore else { return }
        ownerLost(tag)
        for unit in units {
            _ = try? await changeShared(unit, in: shared, by: nil, "release at the loss of target port group \(tag)") { state throws(SenseData) in
                guard let holder = state.spc2Holder, holder.targetPortGroup == tag else { return .unchanged }
                state.spc2Holder = nil
                return .changed()
            }
        }
    }

    /// A change another gateway published, applied to the unit it names if this
    /// device server has it; in owner mode, a unit another gateway took over gives up
    /// its medium's lock before the change counts as applied. False: the lock could
    /// not be given up.
    func applyPublished(_ change: ReservationChange) async -> Bool {
        guard let unit = units.first(where: { $0.reservationRecordName == change.name }) else { return true }
        apply(change, to: unit, issuedThrough: nil)
        logger.info("reservations changed by another gateway", metadata: ["lun": "\(unit.number)", "version": "\(change.record.version)"])
        // What a reset or PREEMPT AND ABORT through another gateway ends here (SAM-5 §7.7,
        // SPC-4 §5.12.11.2.6), waited for at most a while: the publisher counts this
        // gateway silent, and fences it, after its acknowledgement timeout.
        if change.reset != nil {
            await abortTasks(in: unit, waitingAtMost: Self.abortWaitForAnotherGateway) { _ in true }
        } else if change.abortsPreempted {
            let preempted = change.notices.filter { $0.condition == .registrationsPreempted }.flatMap(\.registrants)
            await abortTasks(in: unit, waitingAtMost: Self.abortWaitForAnotherGateway) { nexus in preempted.contains { $0.matches(nexus) } }
        }
        return await followOwner(unit)
    }
}

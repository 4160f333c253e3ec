import BlockStorage
import Logging
import SCSIProtocol

/// Logical units arriving and leaving while the target runs: the Storport port driver's
/// dynamic devices (ARCHITECTURE.md §2). Every I_T nexus learns of the change with
/// REPORTED LUNS DATA HAS CHANGED (SPC-4 §6.33: established when the logical unit
/// inventory changes), and Linux then rescans the target.
extension SCSITargetDevice {
    /// Adds a logical unit; commands reach it from the next one on. Persistent
    /// reservations saved for it with APTPL (found by its NAA designator) come back.
    ///
    /// - Throws: ``SCSIEngineError`` `duplicateLogicalUnit` when the number is taken.
    public func addLogicalUnit(_ descriptor: LogicalUnitDescriptor) async throws(SCSIEngineError) {
        let unit = await Self.restoredUnit(descriptor, from: reservationStore, targetPortGroups: targetPortGroups, logger: logger)
        var others: [LogicalUnit] = []
        try replaceUnits { (units: [LogicalUnit]) throws(SCSIEngineError) in
            guard !units.contains(where: { $0.number == unit.number }) else {
                throw SCSIEngineError(
                    .duplicateLogicalUnit, "target \(targetName) already has LUN \(descriptor.lun); remove it first or pick another number")
            }
            others = units
            return units + [unit]
        }
        reportExternalResizes(of: unit)
        await catchUpSharedReservations(of: [unit])
        claimOwnership(of: [unit])
        for other in others {
            other.withState { $0.unitAttentions.establish(.reportedLUNsDataHasChanged, except: nil) }
        }
        logger.notice("logical unit added", metadata: ["lun": "\(descriptor.lun)", "blocks": "\(unit.geometry.blockCount)"])
    }

    /// Removes logical unit `lun`: new commands to it get LOGICAL UNIT NOT SUPPORTED at
    /// once, and this returns only once the commands already in it have left, so its
    /// backend can be closed. Returns what the unit was built from.
    ///
    /// - Throws: ``SCSIEngineError`` `unknownLogicalUnit`.
    public func removeLogicalUnit(_ lun: UInt16) async throws(SCSIEngineError) -> LogicalUnitDescriptor {
        var removed: LogicalUnit?
        try replaceUnits { (units: [LogicalUnit]) throws(SCSIEngineError) in
            guard let unit = units.first(where: { $0.number.rawValue == lun }) else {
                throw SCSIEngineError(
                    .unknownLogicalUnit,
                    "target \(targetName) has no LUN \(lun); its LUNs are " + units.map { String($0.number.rawValue) }.joined(separator: ", "))
            }
            removed = unit
            return units.filter { $0 !== unit }
        }
        guard let unit = removed else { preconditionFailure("replaceUnits returned without a removed unit") }
        // Commands that read the old table and wait at the gate are refused once in;
        // passing it exclusively waits for those already inside.
        unit.withState { $0.removed = true }
        await unit.gate.enter(exclusive: true)
        unit.gate.leave(exclusive: true)
        for other in units {
            other.withState { $0.unitAttentions.establish(.reportedLUNsDataHasChanged, except: nil) }
        }
        logger.notice("logical unit removed", metadata: ["lun": "\(lun)"])
        return unit.descriptor
    }
}

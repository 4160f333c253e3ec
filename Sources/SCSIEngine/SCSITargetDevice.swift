import Logging
import NIOConcurrencyHelpers
import NIOCore
import SCSIProtocol
import Synchronization

/// The device server of one SCSI target device (SAM-5 §4.6): its logical units, their
/// SPC/SBC emulation, sense data, unit attentions and task management.
///
/// The port layer (ISCSITransport) calls ``execute(_:)`` for each command and
/// ``taskManagement(_:lun:nexus:)`` for each TMF; both are `async` and never block a
/// thread: backend I/O is awaited. Logical units are added and removed while commands
/// run (``addLogicalUnit(_:)``, ``removeLogicalUnit(_:)``); their
/// mutable state sits behind per-unit locks, so the class is `Sendable` and commands
/// run concurrently.
public final class SCSITargetDevice: Sendable {
    /// The iSCSI target name, reported as the SCSI name string of the target device.
    public let targetName: String
    /// The logical units in ascending LUN order, as they are now.
    var units: [LogicalUnit] { currentUnits { $0.units } }
    let logger: Logger
    let allocator = ByteBufferAllocator()
    /// Where persistent reservations with APTPL are kept; nil: APTPL is not supported
    /// (PTPL_C = 0, SPC-4 §6.15.4).
    let reservationStore: (any ReservationStore)?
    /// `reservationStore` when other gateways' device servers share it.
    var sharedReservationStore: (any SharedReservationStore)? { reservationStore as? any SharedReservationStore }
    /// EXTENDED COPY results for RECEIVE COPY RESULTS (SPC-4 §6.18.3).
    let copyResults = CopyResultsLog()
    /// The target port groups (SPC-4 §5.15.2.1) in the order REPORT TARGET PORT GROUPS
    /// lists them. Empty: no port has asymmetric access (every state active/optimized).
    public let targetPortGroups: [TargetPortGroupDescriptor]
    /// Explicit ALUA (SPC-4 §5.15.2.8): initiators may change states with SET TARGET PORT
    /// GROUPS. Off, only the device server (the operator) changes them (implicit ALUA).
    public let explicitALUA: Bool
    /// This gateway's place in a cluster that shares owner-mode logical units; nil: no
    /// unit is in owner mode here.
    let ownership: SharedOwnership?
    /// Set by ``relinquishOwnership()`` at a stop: this gateway takes no unit over again.
    let ownershipRelinquished = Synchronization.Atomic<Bool>(false)
    /// The port layer's abort of other nexuses' tasks (``routeTaskAborts(to:)``).
    let taskAborter = NIOLockedValueBox<TaskAborter?>(nil)
    /// The current ``LogicalUnitTable``, read by every command. An atomic pointer, not a
    /// lock, so that commands of different sessions do not contend for it; tables are
    /// never freed (`everyTable` keeps them), so a command may go on using the one
    /// it read after a unit was added or removed.
    private let unitTable: Synchronization.Atomic<Unmanaged<LogicalUnitTable>>
    /// Every table that was ever current, the current one last; its lock serializes
    /// their replacement.
    private let everyTable: NIOLockedValueBox<[LogicalUnitTable]>

    /// Builds the device server without a reservation store: APTPL is not offered
    /// (PTPL_C = 0). LUN numbers must be unique: a duplicate is our caller's
    /// configuration bug, which the config parser rejects first.
    ///
    /// `targetPortGroups` are the ALUA target port groups with their initial states
    /// (SPC-4 §5.15); group tags must be unique (the config parser checks).
    public convenience init(
        targetName: String, logicalUnits: [LogicalUnitDescriptor], logger: Logger,
        targetPortGroups: [TargetPortGroupDescriptor] = [], explicitALUA: Bool = false
    ) {
        self.init(
            targetName: targetName, units: logicalUnits.map { LogicalUnit($0, targetPortGroups: targetPortGroups) },
            logger: logger, reservationStore: nil, targetPortGroups: targetPortGroups, explicitALUA: explicitALUA, ownership: nil)
    }

    /// Builds the device server with persistent reservations kept in `reservationStore`
    /// (APTPL, SPC-4 §5.12.5), after loading what it holds for each logical unit: the
    /// units are attached with their reservations before any command reaches them.
    /// With a shared store and `ownership`, the units with a
    /// ``LogicalUnitDescriptor/homeTargetPortGroup`` are in owner mode.
    /// The other parameters are those of ``init(targetName:logicalUnits:logger:targetPortGroups:explicitALUA:)``.
    public static func restoring(
        targetName: String, logicalUnits: [LogicalUnitDescriptor], logger: Logger, reservationStore: any ReservationStore,
        targetPortGroups: [TargetPortGroupDescriptor] = [], explicitALUA: Bool = false, ownership: SharedOwnership? = nil
    ) async -> SCSITargetDevice {
        var units: [LogicalUnit] = []
        for descriptor in logicalUnits {
            units.append(
                await restoredUnit(descriptor, from: reservationStore, targetPortGroups: targetPortGroups, logger: logger))
        }
        let device = SCSITargetDevice(
            targetName: targetName, units: units, logger: logger, reservationStore: reservationStore,
            targetPortGroups: targetPortGroups, explicitALUA: explicitALUA, ownership: ownership)
        device.sharedReservationStore?.onChange { [weak device] change in await device?.applyPublished(change) ?? true }
        await device.catchUpSharedReservations(of: units)
        device.claimOwnership(of: units)
        return device
    }

    private init(
        targetName: String, units: [LogicalUnit], logger: Logger, reservationStore: (any ReservationStore)?,
        targetPortGroups: [TargetPortGroupDescriptor], explicitALUA: Bool, ownership: SharedOwnership?
    ) {
        self.targetName = targetName
        self.ownership = reservationStore is any SharedReservationStore ? ownership : nil
        self.logger = logger
        self.reservationStore = reservationStore
        self.targetPortGroups = targetPortGroups
        self.explicitALUA = explicitALUA
        let table = LogicalUnitTable(units)
        self.unitTable = Synchronization.Atomic(Unmanaged.passUnretained(table))
        self.everyTable = NIOLockedValueBox([table])
        for unit in units { reportExternalResizes(of: unit) }
    }

    /// Runs `body` on the current unit table without retaining it (it is never freed).
    @inline(__always)
    private func currentUnits<T>(_ body: (LogicalUnitTable) -> T) -> T {
        unitTable.load(ordering: .acquiring)._withUnsafeGuaranteedRef(body)
    }

    /// Replaces the units with what `change` makes of them (it throws to change
    /// nothing). Commands that read the old table finish with it.
    func replaceUnits(_ change: ([LogicalUnit]) throws(SCSIEngineError) -> [LogicalUnit]) throws(SCSIEngineError) {
        let outcome = everyTable.withLockedValue { tables -> Result<Void, SCSIEngineError> in
            do throws(SCSIEngineError) {
                let table = LogicalUnitTable(try change(tables[tables.count - 1].units))
                tables.append(table)
                unitTable.store(Unmanaged.passUnretained(table), ordering: .releasing)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }

    /// The logical unit numbered `lun`.
    func unit(numbered lun: UInt16) -> LogicalUnit? {
        currentUnits { $0.unit(numbered: lun) }
    }

    /// The logical unit that a command's LUN field (its 8-byte wire form) addresses.
    func unit(addressedBy wireLUN: UInt64) -> LogicalUnit? {
        LogicalUnitNumber(wireValue: wireLUN).flatMap { unit(numbered: $0.rawValue) }
    }

    /// The LUNs of this target in ascending order.
    public var logicalUnitNumbers: [UInt16] {
        units.map(\.number.rawValue)
    }

    /// Executes one command to completion. Failures come back as CHECK CONDITION with
    /// sense data, never as a thrown error or a trap.
    public func execute(_ command: SCSICommand) async -> SCSICommandResult {
        let cdb = CommandDescriptorBlock(command.cdb)
        let unit = unit(addressedBy: command.lun)
        let dataOutLength = unit.flatMap { Self.dataOutLength(of: cdb, blockSize: $0.blockSize) }
        do {
            var result = try await dispatch(CommandContext(command: command, cdb: cdb), unit: unit)
            if result.status == .reservationConflict { result.dataOutLengthUsed = dataOutLength }
            return result
        } catch {
            return checkCondition(error, command: command, cdb: cdb, unit: unit, dataOutLength: dataOutLength)
        }
    }

    /// The CHECK CONDITION for a failed command. Kept out of `execute`: whatever an
    /// async function holds is laid out in its task frame, paid for by every command.
    private func checkCondition(
        _ error: SenseData, command: SCSICommand, cdb: CommandDescriptorBlock, unit: LogicalUnit?, dataOutLength: Int?
    ) -> SCSICommandResult {
        // D_SENSE in the control mode page picks the format (SPC-4 §4.5.1).
        var result = SCSICommandResult(
            status: .checkCondition,
            sense: unit?.descriptorSense == true ? error.descriptorFormat : error.fixedFormat)
        result.dataOutLengthUsed = dataOutLength
        logger.debug(
            "CHECK CONDITION",
            metadata: [
                "cdb": "\(cdb.operationCode)", "lun": "\(command.lun)", "nexus": "\(command.nexus)",
                "sense": "\(error.condition)",
            ])
        return result
    }

    /// Registers an I_T nexus at login so that it is owed POWER ON, RESET, OR BUS DEVICE
    /// RESET OCCURRED by every logical unit exactly once after the daemon started
    /// (SAM-5 §5.14). Calling it again for a known nexus does nothing; a nexus that sends
    /// a command without logging in is registered then.
    public func nexusLogin(_ nexus: ITNexus) {
        for unit in units {
            unit.withState { $0.unitAttentions.register(nexus) }
        }
    }

    /// Common checks, then the command's handler (SAM-5 §5.14, SPC-4 §4.2). The order
    /// is LIO's and the standards': a pending unit attention first (SAM-5 §5.14: it is
    /// reported on any command but the three exempt ones), then the asymmetric access
    /// state of the nexus's target port group (SPC-4 §5.15.2.4, so an initiator learns
    /// of a state change before being refused by it), then reservations.
    private func dispatch(_ context: CommandContext, unit: LogicalUnit?) async throws(SenseData) -> SCSICommandResult {
        let supported = try route(context)
        switch supported.handler {
        case .anyLogicalUnit(let handler):
            return try await dispatchForAnyUnit(context, to: handler, supported, unit: unit)
        case .logicalUnit(let handler):
            guard let unit else {
                throw SenseData(.logicalUnitNotSupported)
            }
            // Inside the gate, so an exclusive PERSISTENT RESERVE OUT cannot change the
            // reservation between this check and the command's work.
            // An ORDERED task passes exclusively: the gate lets it in once every task
            // before it has left, and holds back every task after it (SAM-5 §8.6.3).
            let attribute = context.command.taskAttribute
            let exclusive = supported.exclusive || attribute == .ordered
            // Owner mode: a write through a gateway that does not hold the medium's lock
            // takes the unit over first, outside the gate (the gateway giving it up
            // waits in its own gate for the writes it admitted).
            let takesLock = supported.writesMedium && unit.lockedMedium != nil
            if takesLock && !unit.holdsLock.load(ordering: .acquiring) { try await takeOver(unit) }
            if let prepare = supported.beforeGate { await prepare(self)(context, unit) }
            // Aborted while it waited its turn (SAM-5 §7.2): it ends without touching
            // the medium. The port layer drops the status.
            guard await unit.gate.enterUnlessCancelled(exclusive: exclusive, headOfQueue: attribute == .headOfQueue) else {
                return SCSICommandResult(status: .taskAborted)
            }
            defer { unit.gate.leave(exclusive: exclusive) }
            if Task.isCancelled {
                return SCSICommandResult(status: .taskAborted)
            }
            if try meetsReservationConflict(context.nexus, supported, cdb: context.cdb, unit: unit) {
                return SCSICommandResult(status: .reservationConflict)
            }
            if takesLock && !unit.holdsLock.load(ordering: .acquiring) {
                // Another gateway took the unit over while this write waited its turn:
                // the host retries, by then knowing the new states.
                throw SenseData(.logicalUnitNotAccessibleAsymmetricAccessStateTransition)
            }
            return try await handler(self)(context, unit)
        }
    }

    /// INQUIRY, REPORT LUNS and REQUEST SENSE: answered for any LUN and never report a
    /// unit attention (SAM-5 §5.14). Apart from `dispatch`, whose task frame every
    /// command pays for.
    @inline(never)
    private func dispatchForAnyUnit(
        _ context: CommandContext, to handler: SupportedCommand.Handler.AnyUnitHandler, _ supported: SupportedCommand,
        unit: LogicalUnit?
    ) async throws(SenseData) -> SCSICommandResult {
        if let unit { try checkAccessState(supported.aluaAccess, unit: unit, nexus: context.nexus) }
        return try await handler(self)(context, unit)
    }

    // The synchronous steps of `dispatch` are functions of their own, never inlined:
    // whatever an async function holds is laid out in its task frame (dispatch's was
    // 2.3 KB), and each command's frames beyond the task's first slab cost a malloc.

    /// The table row for a valid CDB of a command this device server offers.
    @inline(never)
    private func route(_ context: CommandContext) throws(SenseData) -> SupportedCommand {
        let cdb = context.cdb
        if context.command.taskAttribute == .aca {
            // NACA = 0 everywhere (NormACA = 0 in INQUIRY), so no ACA condition exists for
            // an ACA task to run in (SAM-5 §8.6.5); refused as Linux LIO refuses it.
            throw SenseData(.invalidFieldInCDB)
        }
        try cdb.validate()
        let supported = try SupportedCommand.lookup(cdb)
        guard offers(supported) else {
            throw SenseData(.invalidCommandOperationCode, field: FieldPointer(.cdb, byte: 0))
        }
        return supported
    }

    /// The unit attention, ALUA and reservation checks under one take of the unit's
    /// lock: it is shared by every session of the unit, so each take is a chance to
    /// contend. A pending unit attention or an ALUA refusal is thrown; true when the
    /// command meets a reservation conflict.
    @inline(never)
    private func meetsReservationConflict(
        _ nexus: ITNexus, _ supported: SupportedCommand, cdb: CommandDescriptorBlock, unit: LogicalUnit
    ) throws(SenseData) -> Bool {
        let access = supported.reservationAccess.resolved(for: cdb)
        let admission = unit.withState { state -> Result<Bool, SenseData> in
            if state.removed {
                // Removed while the command waited its turn (it read the old table).
                return .failure(SenseData(.logicalUnitNotSupported))
            }
            if let attention = state.unitAttentions.take(for: nexus) {
                return .failure(SenseData(attention))
            }
            if let refusal = state.refusal(of: supported.aluaAccess, through: nexus) {
                return .failure(SenseData(refusal))
            }
            return .success(state.reservationConflict(for: nexus, access: access))
        }
        return try admission.get()
    }
}

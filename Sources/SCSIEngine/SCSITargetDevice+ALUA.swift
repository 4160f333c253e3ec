import Logging
import NIOCore
import SCSIProtocol

/// Asymmetric logical unit access (SPC-4 §5.15): REPORT TARGET PORT GROUPS (§6.27),
/// SET TARGET PORT GROUPS (§6.39), the access check per state (§5.15.2.4, §5.15.2.5)
/// and the operator's interface. Implicit ALUA always; explicit when configured.
extension SCSITargetDevice {
    /// IMPLICIT TRANSITION TIME of the extended header (SPC-4 §6.27): how long an
    /// initiator should keep retrying a transitioning group. Our own transitions are
    /// instant; a transitioning state set by the operator is expected to be brief.
    static let implicitTransitionTimeSeconds: UInt8 = 10

    /// The asymmetric access states this device server enters: every state of SPC-4
    /// §5.15.2.4 but logical block dependent (§5.15.2.4.6) and offline (§5.15.2.4.7).
    /// Configuration, the operator and SET TARGET PORT GROUPS choose among these.
    public static let implementedAccessStates: [AsymmetricAccessState] = [
        .activeOptimized, .activeNonOptimized, .standby, .unavailable, .transitioning,
    ]

    /// Byte 1 of every target port group descriptor: a bit per state we implement.
    static let supportedAccessStates = implementedAccessStates.reduce(UInt8(0)) { $0 | $1.supportBit }

    /// TPGS of standard INQUIRY data (SPC-4 §6.6.2): implicit ALUA always, explicit when
    /// configured.
    var targetPortGroupSupport: UInt8 {
        StandardInquiryData.implicitALUA | (explicitALUA ? StandardInquiryData.explicitALUA : 0)
    }

    /// Whether this device server offers a row of the command table: SET TARGET PORT
    /// GROUPS only with explicit ALUA. Dispatch and REPORT SUPPORTED OPERATION CODES
    /// both ask, so what is reported is what is accepted.
    func offers(_ command: SupportedCommand) -> Bool {
        explicitALUA || !(command.operationCode == .maintenanceOut && command.serviceAction == 0x0A)
    }

    /// Refuses a command the state of the nexus's target port group does not serve
    /// (SPC-4 §5.15.2.4 lists per state; the column is ``SupportedCommand/aluaAccess``).
    func checkAccessState(_ access: ALUAAccess, unit: LogicalUnit, nexus: ITNexus) throws(SenseData) {
        if let refusal = unit.withState({ $0.refusal(of: access, through: nexus) }) {
            throw SenseData(refusal)
        }
    }

    /// PARAMETER DATA FORMAT (byte 1 bits 7..5) 000b: length-only header; 001b: extended
    /// header with FORMAT TYPE and IMPLICIT TRANSITION TIME (SPC-4 §6.27.2, tables
    /// 167/168).
    func reportTargetPortGroups(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let extended: Bool
        switch cdb[1] >> 5 {
        case 0b000: extended = false
        case 0b001: extended = true
        default: throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 7))
        }
        let states = unit.withState { $0.accessStates }
        let groups = targetPortGroups.compactMap { group in
            states[group.tag].map { entry in
                TargetPortGroupStatus(
                    groupID: group.tag, state: entry.state, preferred: entry.preferred,
                    supportedStates: Self.supportedAccessStates, statusCode: entry.lastChange.rawValue,
                    relativeTargetPortIdentifiers: group.relativeTargetPortIdentifiers)
            }
        }
        let data = TargetPortGroupStatus.reportTargetPortGroupsParameterData(
            groups, implicitTransitionTime: extended ? Self.implicitTransitionTimeSeconds : nil)
        return .good(data, allocationLength: cdb.allocationLength)
    }

    /// Changes the states the parameter list names, all or none (SPC-4 §6.39): a
    /// 4-byte reserved header, then 4-byte descriptors of ASYMMETRIC ACCESS STATE and
    /// TARGET PORT GROUP. A state that cannot be requested, a group this target does not
    /// have or a group named twice is INVALID FIELD IN PARAMETER LIST pointing at it.
    func setTargetPortGroups(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let length = context.cdb.allocationLength
        // PARAMETER LIST LENGTH 0: nothing is transferred or changed (SPC-4 §6.39).
        guard length > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: 0) }
        let list = Array(try dataOut(context, byteCount: length).readableBytesView)
        guard length >= 4, length % 4 == 0 else {
            throw SenseData(.parameterListLengthError)
        }
        var changes: [TargetPortGroupStates.Change] = []
        for offset in stride(from: 4, to: length, by: 4) {
            guard let state = AsymmetricAccessState(rawValue: list[offset] & 0x0F), state.isRequestable,
                  Self.implementedAccessStates.contains(state)
            else {
                throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset, bit: 3))
            }
            let tag = UInt16(list[offset + 2]) << 8 | UInt16(list[offset + 3])
            guard targetPortGroups.contains(where: { $0.tag == tag }),
                  changes.contains(where: { $0.targetPortGroup == tag }) == false
            else {
                throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset + 2))
            }
            changes.append(.init(targetPortGroup: tag, state: state, preferred: nil))
        }
        // Owner mode: the states follow the owner (SharedOwnership), not requests.
        guard unit.lockedMedium == nil else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 4, bit: 3))
        }
        let status = try await changeAccessStates(changes, of: unit, as: .setTargetPortGroups, requestedBy: context.nexus)
        return SCSICommandResult(status: status, dataOutLengthUsed: length)
    }

    /// Applies `changes` to `unit` and, when what REPORT TARGET PORT GROUPS reports
    /// changed, establishes ASYMMETRIC ACCESS STATE CHANGED for every I_T nexus except
    /// the one whose SET TARGET PORT GROUPS asked for it (SPC-4 §5.15.2.2, §6.39). The
    /// one place states change. With a shared store, in the unit's shared record, so
    /// every gateway reports and serves by them (``apply(_:to:issuedThrough:)``): GOOD
    /// once every live gateway applied them, BUSY when the record is too contended.
    private func changeAccessStates(
        _ changes: [TargetPortGroupStates.Change], of unit: LogicalUnit, as cause: ALUAGroupStatus.LastChange,
        requestedBy requester: ITNexus?
    ) async throws(SenseData) -> SCSIStatus {
        if let shared = sharedReservationStore {
            let current = unit.withState { $0.accessStates }
            return try await changeShared(unit, in: shared, by: requester, "set ALUA states") { state throws(SenseData) in
                var changed = false
                for change in changes {
                    let preferred = change.preferred ?? state.accessStates[change.targetPortGroup]?.preferred
                        ?? current[change.targetPortGroup]?.preferred ?? false
                    let entry = SharedReservationState.AccessState(state: change.state, preferred: preferred, cause: cause)
                    guard state.accessStates[change.targetPortGroup] != entry else { continue }
                    state.accessStates[change.targetPortGroup] = entry
                    changed = true
                }
                return changed ? .changed() : .unchanged
            }
        }
        let changed = unit.withState { state in
            guard state.accessStates.apply(changes, as: cause) else { return false }
            state.unitAttentions.establish(.asymmetricAccessStateChanged, except: requester)
            return true
        }
        guard changed else { return .good }
        for change in changes {
            logger.info(
                "asymmetric access state changed",
                metadata: [
                    "lun": "\(unit.number)", "tpg": "\(change.targetPortGroup)", "state": "\(change.state.name)",
                    "preferred": "\(change.preferred.map { "\($0)" } ?? "unchanged")", "by": "\(cause)",
                ])
        }
        return .good
    }

    // MARK: - Operator interface

    /// Sets the asymmetric access state of target port group `tag` for logical unit
    /// `lun`, or for every logical unit when `lun` is nil (implicit ALUA, SPC-4
    /// §5.15.2.7). `preferred` sets PREF too; nil keeps it. Every I_T nexus is told
    /// with ASYMMETRIC ACCESS STATE CHANGED.
    ///
    /// In a cluster the states are shared with the other gateways
    /// (``changeAccessStates(_:of:as:requestedBy:)``); an owner-mode unit's follow its
    /// owner and are not set this way.
    ///
    /// - Throws: ``SCSIEngineError`` with code `unknownTargetPortGroup` or
    ///   `unknownLogicalUnit`, with a message naming what exists; `unsupportedAccessState`
    ///   for an owner-mode unit; `reservationStoreFailed` when the shared record could
    ///   not be changed.
    public func setALUAState(
        _ state: AsymmetricAccessState, forTargetPortGroup tag: UInt16, lun: UInt16?, preferred: Bool?
    ) async throws(SCSIEngineError) {
        guard Self.implementedAccessStates.contains(state) else {
            throw SCSIEngineError(
                .unsupportedAccessState,
                "this device server does not enter the \(state.name) state; it offers "
                    + Self.implementedAccessStates.map(\.name).joined(separator: ", "))
        }
        guard targetPortGroups.contains(where: { $0.tag == tag }) else {
            throw SCSIEngineError(
                .unknownTargetPortGroup,
                "target \(targetName) has no target port group \(tag); its groups are "
                    + (targetPortGroups.isEmpty ? "none" : targetPortGroups.map { String($0.tag) }.joined(separator: ", ")))
        }
        let selected: [LogicalUnit]
        if let lun {
            guard let unit = unit(numbered: lun) else {
                throw SCSIEngineError(
                    .unknownLogicalUnit,
                    "target \(targetName) has no LUN \(lun); its LUNs are "
                        + logicalUnitNumbers.map(String.init).joined(separator: ", "))
            }
            selected = [unit]
        } else {
            selected = units
        }
        if let unit = selected.first(where: { $0.lockedMedium != nil }) {
            throw SCSIEngineError(
                .unsupportedAccessState,
                "LUN \(unit.number.rawValue) of target \(targetName) is in owner mode: its states follow the gateway that owns it "
                    + "(a write through another gateway moves it there; stopping the owner hands it on)")
        }
        let change = TargetPortGroupStates.Change(targetPortGroup: tag, state: state, preferred: preferred)
        for unit in selected {
            let status: SCSIStatus
            do {
                status = try await changeAccessStates([change], of: unit, as: .implicit, requestedBy: nil)
            } catch {
                status = .checkCondition
            }
            guard status == .good else {
                throw SCSIEngineError(
                    .reservationStoreFailed,
                    "the ALUA state of LUN \(unit.number.rawValue) could not be shared with the other gateways (\(status)); see the log")
            }
        }
    }

    /// Every logical unit's state through every target port group, by LUN then group.
    public var aluaStatus: [ALUAGroupStatus] {
        units.flatMap { unit in
            let states = unit.withState { $0.accessStates }
            return targetPortGroups.compactMap { group in
                states[group.tag].map {
                    ALUAGroupStatus(
                        lun: unit.number.rawValue, targetPortGroup: group.tag,
                        relativeTargetPortIdentifiers: group.relativeTargetPortIdentifiers, state: $0.state,
                        preferred: $0.preferred, lastChange: $0.lastChange)
                }
            }
        }
    }
}

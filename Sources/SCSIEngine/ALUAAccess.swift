import SCSIProtocol

/// The command table's ALUA column: the least accessible asymmetric access state in
/// which a command is still served through a target port (SPC-4 §5.15.2.4, §5.15.2.5).
///
/// The standard's lists nest: what is served while transitioning is served when
/// unavailable, what is served when unavailable is served in standby, and the active
/// states serve everything. So one level per row is the whole table.
enum ALUAAccess: Int, Sendable, Comparable {
    /// Served only through active/optimized and active/non-optimized ports
    /// (§5.15.2.4.2, §5.15.2.4.3): media access, TEST UNIT READY, everything not listed.
    case active
    /// Also in standby (§5.15.2.4.4): LOG SELECT/SENSE, MODE SELECT/SENSE, RECEIVE
    /// DIAGNOSTIC RESULTS, SEND DIAGNOSTIC, PERSISTENT RESERVE IN/OUT, and READ
    /// CAPACITY, which the clause lets a device server add ("may support other
    /// commands") and which Linux needs to probe a standby path, as LIO allows.
    case standby
    /// Also when unavailable (§5.15.2.4.5): SET TARGET PORT GROUPS.
    case unavailable
    /// In every state, transitioning too (§5.15.2.5): INQUIRY, REPORT LUNS, REPORT
    /// TARGET PORT GROUPS, REQUEST SENSE.
    case anyState

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The column a command needs to be served through a port in `state`. Offline and
    /// logical block dependent are never entered here (they are not among
    /// ``SCSITargetDevice/implementedAccessStates``); they are placed as the standard
    /// reads: offline serves least (§5.15.2.4.7), logical block dependent as active for
    /// the blocks it serves (§5.15.2.4.6).
    static func required(in state: AsymmetricAccessState) -> ALUAAccess {
        switch state {
        case .activeOptimized, .activeNonOptimized, .logicalBlockDependent: .active
        case .standby: .standby
        case .unavailable: .unavailable
        case .transitioning, .offline: .anyState
        }
    }

    /// Whether a command with this column is served through a port in `state`; when not,
    /// the CHECK CONDITION the clause prescribes.
    func refusal(in state: AsymmetricAccessState) -> SenseCondition? {
        guard self < Self.required(in: state) else { return nil }
        switch state {
        case .activeOptimized, .activeNonOptimized, .logicalBlockDependent: return nil
        case .standby: return .logicalUnitNotAccessibleTargetPortInStandbyState
        case .unavailable, .offline: return .logicalUnitNotAccessibleTargetPortInUnavailableState
        case .transitioning: return .logicalUnitNotAccessibleAsymmetricAccessStateTransition
        }
    }
}

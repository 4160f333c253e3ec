import SCSIProtocol

/// The asymmetric access states of one logical unit through each target port group
/// (SPC-4 §5.15.2): what the dispatcher checks and REPORT TARGET PORT GROUPS reports.
/// A value kept in the logical unit's locked state.
struct TargetPortGroupStates: Sendable, Equatable {
    /// What one group reports for this logical unit.
    struct Entry: Sendable, Equatable {
        var state: AsymmetricAccessState
        /// PREF (SPC-4 §6.27).
        var preferred: Bool
        var lastChange: ALUAGroupStatus.LastChange
    }

    /// One requested change, from SET TARGET PORT GROUPS or the operator.
    struct Change: Sendable, Equatable {
        var targetPortGroup: UInt16
        var state: AsymmetricAccessState
        /// nil keeps PREF as it is (SET TARGET PORT GROUPS cannot change it).
        var preferred: Bool?
    }

    private var entries: [UInt16: Entry]

    /// Every group in its configured initial state.
    init(_ groups: [TargetPortGroupDescriptor]) {
        entries = Dictionary(
            groups.map { ($0.tag, Entry(state: $0.initialState, preferred: $0.preferred, lastChange: .none)) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The entry of `targetPortGroup`, nil for a group the target device does not have.
    subscript(targetPortGroup: UInt16) -> Entry? { entries[targetPortGroup] }

    /// The state a command arriving on `nexus` meets. A port outside every configured
    /// group has no asymmetric access: active/optimized.
    func state(through nexus: ITNexus) -> AsymmetricAccessState {
        entries[nexus.targetPortGroup]?.state ?? .activeOptimized
    }

    /// Applies `changes` (to known groups only) as one step; returns whether anything
    /// REPORT TARGET PORT GROUPS reports changed, so the caller can raise ASYMMETRIC
    /// ACCESS STATE CHANGED once (SPC-4 §5.15.2.2).
    mutating func apply(_ changes: [Change], as cause: ALUAGroupStatus.LastChange) -> Bool {
        var changed = false
        for change in changes {
            guard var entry = entries[change.targetPortGroup] else { continue }
            let preferred = change.preferred ?? entry.preferred
            guard entry.state != change.state || entry.preferred != preferred else { continue }
            entry.state = change.state
            entry.preferred = preferred
            entry.lastChange = cause
            entries[change.targetPortGroup] = entry
            changed = true
        }
        return changed
    }
}

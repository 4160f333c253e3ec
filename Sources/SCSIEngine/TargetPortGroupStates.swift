import SCSIProtocol

/// The asymmetric access states of one logical unit through each target port group
/// (SPC-4 §5.15.2): what the dispatcher checks and REPORT TARGET PORT GROUPS reports.
/// A value kept in the logical unit's locked state.
struct TargetPortGroupStates: Sendable {
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

    /// By group tag, in configuration order. An array, not a dictionary: a target has a
    /// handful of groups, and every command looks its own up (a scan of a few tags
    /// against a hash per command).
    private var entries: [(tag: UInt16, entry: Entry)]

    /// Every group in its configured initial state (the first of a repeated tag counts).
    init(_ groups: [TargetPortGroupDescriptor]) {
        entries = []
        for group in groups where !entries.contains(where: { $0.tag == group.tag }) {
            entries.append((group.tag, Entry(state: group.initialState, preferred: group.preferred, lastChange: .none)))
        }
    }

    private func index(of targetPortGroup: UInt16) -> Int? {
        entries.firstIndex { $0.tag == targetPortGroup }
    }

    /// The entry of `targetPortGroup`, nil for a group the target device does not have.
    subscript(targetPortGroup: UInt16) -> Entry? {
        index(of: targetPortGroup).map { entries[$0].entry }
    }

    /// The state a command arriving on `nexus` meets. A port outside every configured
    /// group has no asymmetric access: active/optimized.
    func state(through nexus: ITNexus) -> AsymmetricAccessState {
        for group in entries where group.tag == nexus.targetPortGroup { return group.entry.state }
        return .activeOptimized
    }

    /// Applies `changes` (to known groups only) as one step; returns whether anything
    /// REPORT TARGET PORT GROUPS reports changed, so the caller can raise ASYMMETRIC
    /// ACCESS STATE CHANGED once (SPC-4 §5.15.2.2).
    mutating func apply(_ changes: [Change], as cause: ALUAGroupStatus.LastChange) -> Bool {
        var changed = false
        for change in changes {
            guard let index = index(of: change.targetPortGroup) else { continue }
            let preferred = change.preferred ?? entries[index].entry.preferred
            guard entries[index].entry.state != change.state || entries[index].entry.preferred != preferred else { continue }
            entries[index].entry = Entry(state: change.state, preferred: preferred, lastChange: cause)
            changed = true
        }
        return changed
    }

    /// Owner mode (``LogicalUnitDescriptor/homeTargetPortGroup``): the owner's group
    /// active/optimized, every other active/non-optimized, since each gateway serves
    /// everything but only the owner writes without first taking the unit over
    /// (SPC-4 §5.15.2.4.2, §5.15.2.4.3); PREF on the `preferred` group (the home
    /// gateway's, where failback brings the unit back), none when nil.
    static func ownerMode(owner: UInt16?, preferred: UInt16?, of groups: [TargetPortGroupDescriptor]) -> [Change] {
        groups.map {
            Change(targetPortGroup: $0.tag, state: $0.tag == owner ? .activeOptimized : .activeNonOptimized, preferred: $0.tag == preferred)
        }
    }
}

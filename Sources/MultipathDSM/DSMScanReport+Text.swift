import SCSIProtocol

extension DSMScanReport {
    /// The report as `multipath -ll` would lay it out: a device line, a settings line,
    /// then one branch per target port group with its paths.
    ///
    /// ```
    /// naa.6001405aabbccdd LIO-ORG,disk01 rev 4.0 claimed by "LIO-ORG disk"
    /// policy='Round Robin with Subset' failback=immediate no_path_retry='queue 30s' state=serving
    /// |-+- tpg=1 status=active/optimized pref
    /// | `- path1 10.0.0.1:3260 active ios=3 blocks=24 errors=0 failovers=0 outstanding=0
    /// `-+- tpg=2 status=standby
    ///   `- path2 10.0.0.2:3260 standby ios=0 blocks=0 errors=0 failovers=0 outstanding=0
    /// ```
    public var text: String {
        var lines: [String] = []
        for device in devices {
            lines.append("\(device.identity) \(device.vendor),\(device.product) rev \(device.revision) claimed by \(device.claimedBy)")
            let settings = device.configuration
            lines.append("policy='\(settings.policy)' failback=\(settings.failback) "
                + "no_path_retry='\(settings.noPathRetry)' state=\(device.availability.rawValue)")
            let groups = Self.portGroups(device.paths)
            for (groupIndex, group) in groups.enumerated() {
                let lastGroup = groupIndex == groups.count - 1
                lines.append((lastGroup ? "`-+- " : "|-+- ") + Self.groupLabel(group.paths[0]))
                for (pathIndex, path) in group.paths.enumerated() {
                    let stem = lastGroup ? "  " : "| "
                    let branch = pathIndex == group.paths.count - 1 ? "`- " : "|- "
                    lines.append(stem + branch + Self.pathLine(path))
                }
            }
        }
        if !unclaimed.isEmpty {
            lines.append("unclaimed:")
            for entry in unclaimed {
                let path = entry.path
                lines.append("  \(path.pathID) \(path.portal) \(path.vendor.trimmingSpaces),\(path.product.trimmingSpaces): \(entry.reason)")
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    private static func groupLabel(_ path: PathStatus) -> String {
        guard let group = path.targetPortGroup else { return "tpg=none" }
        return "tpg=\(group.groupID) status=\(group.state)" + (group.preferred ? " pref" : "")
    }

    private static func pathLine(_ path: PathStatus) -> String {
        var words = ["\(path.pathID)", path.portal, path.state.rawValue]
        if path.targetPortGroup == nil, let alua = path.aluaState { words.append("alua=\(alua)") }
        if path.failbackPending { words.append("failback-pending") }
        if path.adminPreferred { words.append("preferred") }
        if let weight = path.weight { words.append("weight=\(weight)") }
        let counters = path.counters
        words += [
            "ios=\(counters.ios)", "blocks=\(counters.blocks)", "errors=\(counters.errors)",
            "failovers=\(counters.failovers)", "outstanding=\(counters.outstandingIOs)",
        ]
        return words.joined(separator: " ")
    }
}

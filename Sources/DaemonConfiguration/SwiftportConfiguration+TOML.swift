import ISCSISession

extension SwiftportConfiguration {
    static let keys = ["daemon", "discovery", "dsm", "target"]

    /// Reads the top-level table; nil after reporting errors.
    init?(reading reader: TableReader) {
        let decoder = reader.decoder
        let daemon = DaemonSettings(reading: reader.table("daemon", named: "[daemon]", keys: DaemonSettings.keys))
        let discoveryAuth = reader.table("discovery", named: "[discovery]", keys: ["auth"])?
            .table("auth", named: "[discovery.auth]", keys: CHAPCredentials.keys)
            .flatMap(CHAPCredentials.init(reading:))

        let dsm = DSMSettings(reading: reader.table("dsm", named: "[dsm]", keys: DSMSettings.keys))
        let targetTables = reader.tables("target", named: "[[target]]", keys: TargetConfiguration.keys)
        if targetTables.isEmpty && reader.table["target"] == nil {
            decoder.report(
                "the file defines no targets",
                line: 1,
                suggestion: "add a [[target]] section with a name, portals and a [[target.lun]]"
            )
        }
        var serials: [String: Int] = [:]
        var names: [String: Int] = [:]
        let targets = targetTables.compactMap { table -> TargetConfiguration? in
            if let name = table.peekString("name") {
                decoder.checkUnique(name.value, line: name.line, in: &names) { first in
                    "target '\(name.value)' is defined twice (first on line \(first))"
                }
            }
            return TargetConfiguration(reading: table, serials: &serials)
        }
        guard !targets.isEmpty else { return nil }
        self.init(daemon: daemon, discoveryAuth: discoveryAuth, dsm: dsm, targets: targets)
    }
}

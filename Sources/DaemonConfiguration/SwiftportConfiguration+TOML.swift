import ISCSISession

extension SwiftportConfiguration {
    static let keys = ["daemon", "discovery", "dsm", "cluster", "target"]

    /// Reads the top-level table; nil after reporting errors.
    init?(reading reader: TableReader) {
        let decoder = reader.decoder
        let daemon = DaemonSettings(reading: reader.table("daemon", named: "[daemon]", keys: DaemonSettings.keys))
        let discoveryAuth = reader.table("discovery", named: "[discovery]", keys: ["auth"])?
            .table("auth", named: "[discovery.auth]", keys: CHAPCredentials.keys)
            .flatMap(CHAPCredentials.init(reading:))

        let dsm = DSMSettings(reading: reader.table("dsm", named: "[dsm]", keys: DSMSettings.keys))
        let clusterReader = reader.table("cluster", named: "[cluster]", keys: ClusterSettings.keys)
        let cluster = clusterReader.flatMap { table in
            ClusterSettings(reading: table, gatewayTables: table.tables("gateways", named: "[[cluster.gateways]]", keys: ClusterSettings.gatewayKeys))
        }
        decoder.clusterGateways = cluster?.gateways.map(\.name) ?? []
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
        if let cluster, let clusterReader {
            Self.checkConnections(of: targets, against: cluster, line: clusterReader.line(of: "client"), decoder: decoder)
            Self.checkPortalGroups(of: targets, against: cluster, line: clusterReader.line(of: "gateway"), decoder: decoder)
        }
        self.init(daemon: daemon, discoveryAuth: discoveryAuth, dsm: dsm, cluster: cluster, targets: targets)
    }

    /// A gateway's portals are one target port group, its own: every target it serves
    /// has one portal group, with the tag `[[cluster.gateways]]` gives the gateway, so
    /// the groups every gateway reports (REPORT TARGET PORT GROUPS) are the same.
    private static func checkPortalGroups(
        of targets: [TargetConfiguration], against cluster: ClusterSettings, line: Int, decoder: ConfigurationDecoder
    ) {
        guard let tag = cluster.portalGroup else { return }
        for target in targets where target.portalGroups.map(\.tag) != [tag] {
            decoder.report(
                "target \(target.name) has portal group(s) \(target.portalGroups.map { String($0.tag) }.joined(separator: ", ")), but gateway "
                    + "\(cluster.gateway) is target port group \(tag) ([[cluster.gateways]] portal_group)",
                line: line,
                suggestion: "give the target one [[target.portal_group]] with tag = \(tag) and this gateway's portals")
        }
    }

    /// A gateway's rbd LUNs reach Ceph through the gateway's own librados client: fencing
    /// the gateway (blocklisting that client) must stop their writes too.
    private static func checkConnections(
        of targets: [TargetConfiguration], against cluster: ClusterSettings, line: Int, decoder: ConfigurationDecoder
    ) {
        for target in targets {
            for lun in target.luns {
                guard case .rbd(let location, _) = lun.backend, !cluster.sharesConnection(with: location) else { continue }
                decoder.report(
                    "LUN \(lun.id) of target \(target.name) reaches Ceph otherwise than [cluster] (ceph_conf, client, keyring, "
                        + "cluster_timeout): fencing this gateway would not stop that LUN's writes",
                    line: line,
                    suggestion: "give the LUN the same ceph_conf, client, keyring and cluster_timeout as [cluster], or leave them out of both")
            }
        }
    }
}

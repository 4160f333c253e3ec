import LUNBackends

/// The files of the gateways of one `[cluster]`, checked against each other: every
/// gateway must export the same targets and LUNs with the same identity (the same rbd
/// image, vendor, product, block size, serial when set), or a host's multipath would
/// merge different media into one device or split one into two; and the gateways must
/// agree on the cluster itself (name, state pool, the gateways and their target port
/// groups). `swiftport config check FILE FILE...` runs it after checking each file.
public enum GatewayFiles {
    /// Every disagreement, each naming the files and what differs; empty when they agree.
    public static func disagreements(_ files: [(file: String, configuration: SwiftportConfiguration)]) -> [String] {
        guard let first = files.first else { return [] }
        var problems: [String] = []
        for (file, configuration) in files where configuration.cluster == nil {
            problems.append("\(file) has no [cluster]: only the files of one cluster's gateways can be checked together")
        }
        guard problems.isEmpty, let reference = first.configuration.cluster else { return problems }
        var gatewayFiles: [String: String] = [:]
        for (file, configuration) in files {
            let cluster = configuration.cluster!
            if let other = gatewayFiles[cluster.gateway] {
                problems.append("\(other) and \(file) are both gateway \(cluster.gateway)")
            }
            gatewayFiles[cluster.gateway] = file
            for (what, mine, theirs) in [
                ("cluster name", cluster.name, reference.name), ("state_pool", cluster.statePool, reference.statePool),
                ("namespace", cluster.namespace ?? "(none)", reference.namespace ?? "(none)"),
                ("[[cluster.gateways]]", describe(cluster.gateways), describe(reference.gateways)),
                // Every gateway reports the same PREF bits, which follow failback.
                ("failback", "\(cluster.failback)", "\(reference.failback)"),
            ] where mine != theirs {
                problems.append("\(file): \(what) is \(mine), but \(theirs) in \(first.file)")
            }
            problems += lunDisagreements(configuration, in: file, with: first.configuration, in: first.file)
        }
        for gateway in reference.gateways where gatewayFiles[gateway.name] == nil {
            problems.append("no file given for gateway \(gateway.name): its targets and LUNs were not checked")
        }
        return problems
    }

    private static func describe(_ gateways: [ClusterSettings.Gateway]) -> String {
        gateways.map { "\($0.name) (portal group \($0.portalGroup))" }.joined(separator: ", ")
    }

    /// The targets, their LUNs and each LUN's identity, `file` against `referenceFile`.
    private static func lunDisagreements(
        _ configuration: SwiftportConfiguration, in file: String, with reference: SwiftportConfiguration, in referenceFile: String
    ) -> [String] {
        var problems: [String] = []
        let names = configuration.targets.map(\.name)
        let referenceNames = reference.targets.map(\.name)
        if Set(names) != Set(referenceNames) {
            problems.append("\(file): targets \(names.sorted().joined(separator: ", ")), but \(referenceNames.sorted().joined(separator: ", ")) in \(referenceFile)")
        }
        for target in configuration.targets {
            for lun in target.luns {
                if case .rbd = lun.backend {} else {
                    problems.append("\(file): LUN \(lun.id) of target \(target.name) is not an rbd LUN: each gateway would export media of its own under one identity")
                }
            }
            guard let other = reference.targets.first(where: { $0.name == target.name }) else { continue }
            let ids = target.luns.map(\.id).sorted()
            let otherIDs = other.luns.map(\.id).sorted()
            if ids != otherIDs {
                problems.append("\(file): target \(target.name) has LUNs \(ids.map(String.init).joined(separator: ", ")), but \(otherIDs.map(String.init).joined(separator: ", ")) in \(referenceFile)")
            }
            for lun in target.luns {
                guard let twin = other.luns.first(where: { $0.id == lun.id }) else { continue }
                for (mine, theirs) in zip(identity(lun), identity(twin)) where mine.value != theirs.value {
                    problems.append("\(file): LUN \(lun.id) of target \(target.name) has \(mine.key) \(mine.value), but \(theirs.value) in \(referenceFile)")
                }
            }
        }
        return problems
    }

    /// What a host sees of a LUN, and where its data is.
    private static func identity(_ lun: LUNConfiguration) -> KeyValuePairs<String, String> {
        let image: String = if case .rbd(let location, _) = lun.backend { location.name } else { "\(lun.backend)" }
        return [
            "image": image, "block_size": "\(lun.blockSize)", "vendor": lun.vendor, "product": lun.product,
            "revision": lun.revision, "serial": lun.serialIsDerived ? "(from the image)" : lun.serial,
            "read_only": "\(lun.readOnly)", "home_gateway": lun.homeGateway ?? "(from the identity)",
        ]
    }
}

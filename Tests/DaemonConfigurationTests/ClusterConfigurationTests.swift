import LUNBackends
import Testing

@testable import DaemonConfiguration

/// `[cluster]` and `[[cluster.gateways]]`: a gateway among several sharing reservations.
@Suite("Cluster configuration")
struct ClusterConfigurationTests {
    static let cluster = """
        [cluster]
        name = "ceph-gw"
        gateway = "gw-a"
        state_pool = "rbd"
        [[cluster.gateways]]
        name = "gw-a"
        portal_group = 1
        [[cluster.gateways]]
        name = "gw-b"
        portal_group = 2

        """

    static func file(_ cluster: String, lun: String = "backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"") -> String {
        cluster + """
            [[target]]
            name = "iqn.2026-11.io.swiftport:t"
            portals = ["127.0.0.1:3260"]
            [[target.lun]]
            id = 0
            \(lun)
            """
    }

    @Test("the settings, with the defaults of what is left out")
    func settings() throws {
        let cluster = try #require(try SwiftportConfiguration.parse(Self.file(Self.cluster), file: "gw.toml").cluster)
        #expect(cluster == ClusterSettings(
            name: "ceph-gw", gateway: "gw-a", gateways: [.init(name: "gw-a", portalGroup: 1), .init(name: "gw-b", portalGroup: 2)],
            statePool: "rbd", namespace: nil,
            cephConf: "/etc/ceph/ceph.conf", client: "admin", keyring: nil, clusterTimeout: 30, heartbeat: 5,
            acknowledgementTimeout: 5, fenceDuration: 3600))
        #expect(cluster.peers == ["gw-b"])
        #expect(cluster.portalGroup == 1)
        #expect(cluster.objectPrefix == "swiftport.ceph-gw.")
        #expect(try SwiftportConfiguration.parse(ConfigurationValidationTests.minimalTarget, file: "x.toml").cluster == nil)
        #expect(cluster.failback)
        let noFailback = Self.cluster.replacing("state_pool = \"rbd\"", with: "state_pool = \"rbd\"\nfailback = false")
        #expect(try SwiftportConfiguration.parse(Self.file(noFailback), file: "gw.toml").cluster?.failback == false)
    }

    @Test("home_gateway: one of the cluster's gateways; refused without a [cluster]")
    func homeGateway() throws {
        let lun = "backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\nhome_gateway = \"gw-b\""
        let configuration = try SwiftportConfiguration.parse(Self.file(Self.cluster, lun: lun), file: "gw.toml")
        #expect(configuration.targets.first?.luns.first?.homeGateway == "gw-b")
        let unknown = configurationErrors(Self.file(Self.cluster, lun: lun.replacing("gw-b", with: "gw-c")))
        #expect(unknown.map(\.line) == [19] && unknown.first?.description.contains("must be one of the [[cluster.gateways]], not 'gw-c'") == true, "\(unknown)")
        let alone = configurationErrors(Self.file("", lun: lun))
        #expect(alone.map(\.line) == [9] && alone.first?.description.contains("the file has no [cluster]") == true, "\(alone)")
    }

    @Test("owner-mode homes: the same on every gateway, spread over the gateways, one of their groups")
    func homes() throws {
        let cluster = try #require(try SwiftportConfiguration.parse(Self.file(Self.cluster), file: "gw.toml").cluster)
        var other = cluster
        other.gateway = "gw-b"
        let designators = (0..<64).map { [UInt8(0x60), UInt8($0), 0x14, 0x05] }
        let homes = designators.map { cluster.homePortalGroup(naa: $0) }
        #expect(homes == designators.map { other.homePortalGroup(naa: $0) })
        #expect(Set(homes) == [1, 2])
        #expect(homes.filter { $0 == 1 }.count > 16 && homes.filter { $0 == 2 }.count > 16)
    }

    @Test(arguments: [
        ("gateway = \"gw-a\"", "gateway = \"gw-c\"", 3, "must be one of the [[cluster.gateways]] sections, not 'gw-c'"),
        ("name = \"ceph-gw\"", "name = \"ceph gw\"", 2, "letters, digits, '-' and '_' only"),
        ("state_pool = \"rbd\"\n", "", 1, "[cluster] has no 'state_pool'"),
        ("name = \"gw-b\"", "name = \"gw-a\"", 9, "gateway 'gw-a' is listed twice (first on line 6)"),
        ("portal_group = 2", "portal_group = 1", 10, "portal_group 1 is another gateway's already (line 7)"),
        ("portal_group = 2\n", "", 8, "[[cluster.gateways]] has no 'portal_group'"),
        ("gateway = \"gw-a\"", "gateway = \"gw-b\"", 3, "target iqn.2026-11.io.swiftport:t has portal group(s) 1, but gateway gw-b is target port group 2"),
        ("state_pool = \"rbd\"", "state_pool = \"rbd\"\nheartbeat = 0", 5, "'heartbeat' must be between 3 and 300"),
        ("state_pool = \"rbd\"", "state_pool = \"rbd\"\nclient = \"client.gw\"", 5, "write client = \"gw\""),
        ("state_pool = \"rbd\"", "state_pool = \"rbd\"\nfence_after = 3", 5, "fence_after"),
        ("state_pool = \"rbd\"", "state_pool = \"rbd\"\nfailback = 1", 5, "'failback'"),
    ])
    func rules(original: String, replacement: String, line: Int, fragment: String) {
        let found = configurationErrors(Self.file(Self.cluster.replacing(original, with: replacement)))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == line, "\(found)")
        #expect(found.first?.description.contains(fragment) == true, "\(found)")
    }

    /// Gateway `name`'s file: the cluster above with `gateway` set, its portal group,
    /// and LUN 0 on `image`.
    static func gatewayFile(_ name: String, group: Int, image: String = "lun0", cluster: String = "ceph-gw") throws -> SwiftportConfiguration {
        let text = Self.cluster.replacing("gateway = \"gw-a\"", with: "gateway = \"\(name)\"").replacing("ceph-gw", with: cluster) + """
            [[target]]
            name = "iqn.2026-11.io.swiftport:t"
            [[target.portal_group]]
            tag = \(group)
            portals = ["127.0.0.\(group):3260"]
            [[target.lun]]
            id = 0
            backend = "rbd"
            pool = "rbd"
            image = "\(image)"
            """
        return try SwiftportConfiguration.parse(text, file: "\(name).toml")
    }

    @Test("the gateways' files agree: nothing to say")
    func gatewayFilesAgree() throws {
        #expect(GatewayFiles.disagreements([("a.toml", try Self.gatewayFile("gw-a", group: 1)), ("b.toml", try Self.gatewayFile("gw-b", group: 2))]).isEmpty)
    }

    @Test("files that disagree: each difference named with both files")
    func gatewayFilesDisagree() throws {
        let a = try Self.gatewayFile("gw-a", group: 1)
        #expect(GatewayFiles.disagreements([("a.toml", a), ("b.toml", try Self.gatewayFile("gw-b", group: 2, image: "lun1"))]) == [
            "b.toml: LUN 0 of target iqn.2026-11.io.swiftport:t has image rbd/lun1, but rbd/lun0 in a.toml",
        ])
        #expect(GatewayFiles.disagreements([("a.toml", a), ("a2.toml", a)]) == [
            "a.toml and a2.toml are both gateway gw-a", "no file given for gateway gw-b: its targets and LUNs were not checked",
        ])
        #expect(GatewayFiles.disagreements([("a.toml", a), ("b.toml", try Self.gatewayFile("gw-b", group: 2, cluster: "other"))]).first
            == "b.toml: cluster name is other, but ceph-gw in a.toml")
        let ram = try SwiftportConfiguration.parse(ConfigurationValidationTests.minimalTarget, file: "ram.toml")
        #expect(GatewayFiles.disagreements([("a.toml", a), ("ram.toml", ram)]) == [
            "ram.toml has no [cluster]: only the files of one cluster's gateways can be checked together",
        ])
    }

    @Test("an rbd LUN must reach Ceph as the gateway does, or fencing the gateway would not fence it")
    func lunSharesTheGatewaysClient() {
        let found = configurationErrors(Self.file(Self.cluster, lun: "backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\ncluster_timeout = 5"))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.description.contains("LUN 0 of target iqn.2026-11.io.swiftport:t reaches Ceph otherwise than [cluster]") == true, "\(found)")
        #expect(configurationErrors(Self.file(Self.cluster.replacing("state_pool", with: "cluster_timeout = 5\nstate_pool"),
                                 lun: "backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\ncluster_timeout = 5")).isEmpty)
    }
}

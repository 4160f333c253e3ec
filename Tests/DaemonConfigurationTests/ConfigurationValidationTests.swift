import ISCSISession
import LUNBackends
import Testing

@testable import DaemonConfiguration

/// Semantic validation: defaults, each rule with its line and suggestion, and that every
/// error of a file is reported at once.
@Suite("Configuration validation")
struct ConfigurationValidationTests {
    /// A valid target that tests append keys and sections to.
    static let minimalTarget = """
        [[target]]
        name = "iqn.2026-11.io.swiftport:t"
        portals = ["127.0.0.1:3260"]

        [[target.lun]]
        id = 0
        backend = "ram"
        size = "1MiB"
        """

    /// Expects exactly one error, on `line`, whose description contains `fragment`.
    private func expectSingleError(
        _ text: String,
        line: Int,
        _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let found = configurationErrors(text)
        #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
        #expect(found.first?.line == line, "\(found)", sourceLocation: sourceLocation)
        #expect(found.first?.description.contains(fragment) == true, "\(found)", sourceLocation: sourceLocation)
    }

    @Test func minimalFileGetsDefaults() throws {
        let configuration = try SwiftportConfiguration.parse(Self.minimalTarget, file: "m.toml")
        #expect(configuration.daemon == DaemonSettings())
        #expect(configuration.daemon.maxRecvDataSegmentLength == 262_144)
        #expect(configuration.daemon.headerDigest == ["None", "CRC32C"])
        #expect(configuration.discoveryAuth == nil)
        let target = try #require(configuration.targets.first)
        #expect(target.portalGroups == [PortalGroupConfiguration(tag: 1, portals: [PortalAddress(host: "127.0.0.1", port: 3260)])])
        #expect(target.allowedInitiators.isEmpty && target.allowedNetworks.isEmpty && target.auth == nil)
        let serial = LUNConfiguration.derivedSerial(targetName: "iqn.2026-11.io.swiftport:t", lunID: 0)
        #expect(target.luns == [LUNConfiguration(id: 0, backend: .ram(size: 1 << 20), serial: serial, serialIsDerived: true)])
    }

    @Test func derivedSerialIsStableAndDistinct() {
        let serial = LUNConfiguration.derivedSerial(targetName: "iqn.2026-11.io.swiftport:t", lunID: 0)
        #expect(serial.count == 16)
        #expect(serial.allSatisfy { $0.isHexDigit && !$0.isLowercase })
        #expect(serial == LUNConfiguration.derivedSerial(targetName: "iqn.2026-11.io.swiftport:t", lunID: 0))
        #expect(serial != LUNConfiguration.derivedSerial(targetName: "iqn.2026-11.io.swiftport:t", lunID: 1))
        // FNV-1a 64 of "iqn.2026-11.io.swiftport:t/0", pinned: changing it changes every
        // deployed LUN's identity and breaks multipath maps.
        #expect(serial == "EA9260EA5DFAFF07")
    }

    @Test func daemonSettingsAreRead() throws {
        let text = """
            [daemon]
            state_dir = "/srv/sp"
            admin_socket = "/tmp/sp.sock"
            log_level = "debug"
            log_format = "json"
            nop_in_interval = 0
            nop_in_timeout = 5
            event_loop_threads = 1
            [daemon.iscsi]
            max_recv_data_segment_length = 8192
            max_burst_length = 524288
            first_burst_length = 65536
            immediate_data = false
            initial_r2t = true
            max_outstanding_r2t = 4
            header_digest = ["CRC32C"]
            data_digest = ["CRC32C", "None"]
            [discovery.auth]
            username = "d"
            secret = "twelve-chars"

            """ + Self.minimalTarget
        let configuration = try SwiftportConfiguration.parse(text, file: "d.toml")
        var expected = DaemonSettings()
        expected.stateDirectory = "/srv/sp"
        expected.adminSocketPath = "/tmp/sp.sock"
        expected.logLevel = "debug"
        expected.logFormat = .json
        expected.nopInInterval = 0
        expected.nopInTimeout = 5
        expected.eventLoopThreads = 1
        expected.maxRecvDataSegmentLength = 8192
        expected.maxBurstLength = 524_288
        expected.firstBurstLength = 65536
        expected.immediateData = false
        expected.initialR2T = true
        expected.maxOutstandingR2T = 4
        expected.headerDigest = ["CRC32C"]
        expected.dataDigest = ["CRC32C", "None"]
        #expect(configuration.daemon == expected)
        #expect(configuration.discoveryAuth == CHAPCredentials(username: "d", secret: "twelve-chars"))
    }

    @Test func eventLoopThreadsOutOfRangeNamesTheLine() {
        expectSingleError("[daemon]\nevent_loop_threads = 0\n" + Self.minimalTarget, line: 2, "'event_loop_threads' must be between 1 and 1024, not 0")
    }

    @Test func unknownKeySuggestsTheClosestKnownKey() {
        expectSingleError(Self.minimalTarget + "\nblocksize = 512", line: 9, "unknown key 'blocksize' in [[target.lun]]; did you mean 'block_size'?")
    }

    @Test func unknownKeyWithoutCloseMatchListsTheKnownKeys() {
        expectSingleError("[daemon]\ncolour = 1\n" + Self.minimalTarget, line: 2, "known keys are 'state_dir', 'admin_socket'")
    }

    @Test func missingRequiredKeyPointsAtTheHeader() {
        let text = Self.minimalTarget.replacingOccurrences(of: "id = 0\n", with: "")
        expectSingleError(text, line: 5, "[[target.lun]] has no 'id'; add id = 0")
    }

    @Test func wrongTypeSaysWhatToWrite() {
        expectSingleError(Self.minimalTarget + "\nread_only = \"no\"", line: 9, "'read_only' must be true or false, not a string; write read_only = true")
    }

    @Test(arguments: [
        // (extra LUN keys, error line, message fragment)
        ("block_size = 1000", 9, "'block_size' must be 512 or 4096, not 1000; write block_size = 512"),
        ("vendor = \"TOO-LONG-VENDOR\"", 9, "'vendor' must be 1 to 8 printable ASCII characters"),
        ("product = \"é\"", 9, "'product' must be 1 to 16 printable ASCII"),
        ("revision = \"12345\"", 9, "write revision = \"1234\""),
        ("serial = \"\"", 9, "'serial' must be 1 to 32"),
        ("path = \"/x\"", 9, "'path' does not apply to a RAM LUN"),
        ("write_cache = 1", 9, "'write_cache' must be true or false, not an integer"),
        ("provisioning = \"thinnest\"", 9, "'provisioning' must be \"thin\" or \"thick\", not 'thinnest'"),
    ])
    func lunRules(extra: String, line: Int, fragment: String) {
        expectSingleError(Self.minimalTarget + "\n" + extra, line: line, fragment)
    }

    @Test func provisioningDefaultsToThin() throws {
        let thin = try SwiftportConfiguration.parse(Self.minimalTarget, file: "p.toml")
        #expect(thin.targets[0].luns[0].thinProvisioning)
        let thick = try SwiftportConfiguration.parse(Self.minimalTarget + "\nprovisioning = \"thick\"", file: "p.toml")
        #expect(!thick.targets[0].luns[0].thinProvisioning)
    }

    @Test func sizeMustBeAMultipleOfTheBlockSize() {
        let text = Self.minimalTarget.replacingOccurrences(of: "size = \"1MiB\"", with: "size = 1000\nblock_size = 4096")
        expectSingleError(text, line: 8, "'size' must be a positive multiple of the block size 4096, not 1000 bytes; write size = 4096")
    }

    @Test func lunIDOutOfRange() {
        let text = Self.minimalTarget.replacingOccurrences(of: "id = 0", with: "id = 16384")
        expectSingleError(text, line: 6, "'id' must be between 0 and 16383, not 16384")
    }

    @Test func backendsAndTheirKeys() throws {
        let text = """
            [[target]]
            name = "iqn.2026-11.io.swiftport:t"
            portals = ["127.0.0.1"]
            [[target.lun]]
            id = 0
            backend = "file"
            path = "/srv/a.img"
            [[target.lun]]
            id = 1
            backend = "file"
            path = "/srv/b.img"
            size = "2G"
            [[target.lun]]
            id = 2
            backend = "block"
            path = "/dev/sdb"
            serial = "S2"
            """
        let luns = try SwiftportConfiguration.parse(text, file: "b.toml").targets[0].luns
        #expect(luns.map(\.backend) == [.file(path: "/srv/a.img", size: nil), .file(path: "/srv/b.img", size: 2 << 30), .block(path: "/dev/sdb")])
        #expect(luns[2].serial == "S2")
        #expect(luns.map(\.serialIsDerived) == [true, true, false])
    }

    @Test func rbdLUNs() throws {
        let text = """
            [[target]]
            name = "iqn.2026-11.io.swiftport:t"
            portals = ["127.0.0.1"]
            [[target.lun]]
            id = 0
            backend = "rbd"
            pool = "rbd"
            image = "lun0"
            [[target.lun]]
            id = 1
            backend = "rbd"
            pool = "iscsi"
            namespace = "gw"
            image = "lun1"
            ceph_conf = "/srv/ceph/ceph.conf"
            client = "gateway"
            keyring = "/srv/ceph/gateway.keyring"
            create = true
            size = "2GiB"
            cluster_timeout = 5
            """
        let luns = try SwiftportConfiguration.parse(text, file: "r.toml").targets[0].luns
        #expect(luns.map(\.backend) == [
            .rbd(RBDImageLocation(pool: "rbd", image: "lun0"), createSize: nil),
            .rbd(RBDImageLocation(
                pool: "iscsi", image: "lun1", namespace: "gw", cephConf: "/srv/ceph/ceph.conf", client: "gateway",
                keyring: "/srv/ceph/gateway.keyring", clusterTimeout: 5), createSize: 2 << 30),
        ])
        #expect(
            luns[0].backend == .rbd(RBDImageLocation(pool: "rbd", image: "lun0", cephConf: "/etc/ceph/ceph.conf", client: "admin", clusterTimeout: 30), createSize: nil),
            "the defaults")
    }

    @Test(arguments: [
        ("backend = \"block\"\npath = \"/dev/sdb\"\nsize = \"1GiB\"", "'size' does not apply to a block device LUN"),
        ("backend = \"file\"", "has no 'path'"),
        ("backend = \"file\"\npath = \"relative.img\"", "'path' must be absolute"),
        ("backend = \"ram\"", "has no 'size'"),
        ("backend = \"RAM\"\nsize = 512", "write backend = \"ram\""),
        ("backend = \"rbd\"\nimage = \"lun0\"", "has no 'pool'"),
        ("backend = \"rbd\"\npool = \"rbd\"", "has no 'image'"),
        ("backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\nsize = \"1GiB\"", "'size' applies to an rbd LUN only with create = true"),
        ("backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\ncreate = true", "'create = true' needs 'size'"),
        ("backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\npath = \"/x\"", "'path' does not apply to an rbd LUN"),
        ("backend = \"rbd\"\npool = \"rbd\"\nimage = \"a/b\"", "is not a pool or image name"),
        ("backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\nclient = \"client.admin\"", "write client = \"admin\""),
        ("backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\nceph_conf = \"ceph.conf\"", "'ceph_conf' must be absolute"),
        ("backend = \"file\"\npath = \"/srv/a.img\"\npool = \"rbd\"", "'pool' applies only to an rbd LUN"),
        ("backend = \"rbd\"\npool = \"rbd\"\nimage = \"lun0\"\ncluster_timeout = 0", "'cluster_timeout' must be between 1 and 3600"),
    ])
    func backendRules(keys: String, fragment: String) {
        let text = """
            [[target]]
            name = "iqn.2026-11.io.swiftport:t"
            portals = ["127.0.0.1"]
            [[target.lun]]
            id = 0
            \(keys)
            """
        let found = configurationErrors(text)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.description.contains(fragment) == true, "\(found)")
    }

    @Test(arguments: [
        ("log_level = \"loud\"", "'log_level' must be one of trace, debug"),
        ("log_format = \"xml\"", "'log_format' must be \"text\" or \"json\", not 'xml'"),
        ("state_dir = \"var/lib\"", "'state_dir' must be an absolute path"),
        ("admin_socket = \"/\(String(repeating: "s", count: 120))\"", "a Unix socket path can have at most 107"),
        ("nop_in_interval = -1", "'nop_in_interval' must be between 0 and 3600, not -1"),
        ("iscsi.max_recv_data_segment_length = 16777216", "must be between 512 and 16777215"),
        ("iscsi.max_burst_length = 4096", "'first_burst_length' (262144) must not exceed 'max_burst_length' (4096)"),
        ("iscsi.header_digest = [\"crc32c\"]", "write \"CRC32C\" (digest names are case-sensitive)"),
        ("iscsi.data_digest = []", "must list at least one digest"),
        ("iscsi.data_digest = [\"None\", \"None\"]", "'None' appears twice in 'data_digest'"),
        ("iscsi.max_outstanding_r2t = 0", "'max_outstanding_r2t' must be between 1 and 65535"),
    ])
    func daemonRules(line: String, fragment: String) {
        expectSingleError("[daemon]\n\(line)\n" + Self.minimalTarget, line: 2, fragment)
    }

    @Test(arguments: [
        ("username = \"u\"\nsecret = \"short\"", 3, "'secret' is 5 characters long; CHAP secrets must have at least 12"),
        ("username = \"u\"\nsecret = \"twelve-chars\"\nmutual_username = \"m\"\nmutual_secret = \"twelve-chars\"", 5, "'mutual_secret' must differ from 'secret'"),
        ("username = \"u\"\nsecret = \"twelve-chars\"\nmutual_username = \"m\"", 1, "[discovery.auth] has no 'mutual_secret'"),
        ("secret = \"twelve-chars\"", 1, "has no 'username'"),
        ("username = \"\"\nsecret = \"twelve-chars\"", 2, "CHAP user names must not be empty"),
    ])
    func chapRules(keys: String, line: Int, fragment: String) {
        expectSingleError("[discovery.auth]\n\(keys)\n" + Self.minimalTarget, line: line, fragment)
    }

    @Test func mutualCHAPIsRead() throws {
        let text = Self.minimalTarget + """

            [target.auth]
            username = "u"
            secret = "initiator-secret"
            mutual_username = "t"
            mutual_secret = "target-secret-1"
            """
        let auth = try SwiftportConfiguration.parse(text, file: "a.toml").targets[0].auth
        #expect(auth == CHAPCredentials(username: "u", secret: "initiator-secret", mutualUsername: "t", mutualSecret: "target-secret-1"))
    }

    @Test(arguments: [
        ("name = \"iqn.2026-11.io.Swiftport:t\"", "write \"iqn.2026-11.io.swiftport:t\""),
        ("name = \"target1\"", "iSCSI names start with iqn., eui. or naa."),
        ("name = \"iqn.2026-13.io.swiftport\"", "month 13"),
        ("name = \"iqn.26-11.io.swiftport\"", "does not have the form"),
        ("name = \"iqn.2026-11.io_swiftport\"", "contains '_'"),
        ("name = \"eui.0123\"", "eui. followed by 16 hex digits"),
    ])
    func targetNameRules(nameLine: String, fragment: String) {
        let text = Self.minimalTarget.replacingOccurrences(of: "name = \"iqn.2026-11.io.swiftport:t\"", with: nameLine)
        expectSingleError(text, line: 2, fragment)
    }

    @Test func validNameForms() throws {
        for name in ["eui.02004567A425678D", "naa.52004567BA64678D", "naa.52004567ba64678d0123456789abcdef", "iqn.2026-11.io.swiftport"] {
            #expect(throws: Never.self) { try ISCSIName.validate(name) }
        }
    }

    @Test func aclsAreRead() throws {
        let text = Self.minimalTarget.replacingOccurrences(
            of: "portals = [\"127.0.0.1:3260\"]",
            with: "portals = [\"127.0.0.1:3260\"]\nallowed_initiators = [\"iqn.1994-05.com.redhat:h1\"]\nallowed_networks = [\"10.0.0.0/8\", \"fd00::/8\"]"
        )
        let target = try SwiftportConfiguration.parse(text, file: "acl.toml").targets[0]
        #expect(target.allowedInitiators == ["iqn.1994-05.com.redhat:h1"])
        #expect(target.allowedNetworks.map(\.description) == ["10.0.0.0/8", "fd00::/8"])
    }

    @Test func portalGroupsAreRead() throws {
        let text = """
            [[target]]
            name = "iqn.2026-11.io.swiftport:t"
            [[target.portal_group]]
            tag = 1
            portals = ["10.0.0.1", "[fd00::1]:3261"]
            [[target.portal_group]]
            tag = 2
            portals = ["10.1.0.1:3260"]
            [[target.lun]]
            id = 0
            backend = "ram"
            size = 4096
            """
        let groups = try SwiftportConfiguration.parse(text, file: "g.toml").targets[0].portalGroups
        #expect(groups.map(\.tag) == [1, 2])
        #expect(groups.map { $0.portals.map(\.description) } == [["10.0.0.1:3260", "[fd00::1]:3261"], ["10.1.0.1:3260"]])
    }

    @Test func portalRules() {
        let base = """
            [[target]]
            name = "iqn.2026-11.io.swiftport:t"
            %PORTALS%
            [[target.lun]]
            id = 0
            backend = "ram"
            size = 4096
            """
        func check(_ portals: String, line: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            expectSingleError(base.replacingOccurrences(of: "%PORTALS%", with: portals), line: line, fragment, sourceLocation: sourceLocation)
        }
        check("", line: 1, "target has no portals")
        check("portals = []", line: 3, "'portals' is empty")
        check("portals = [\"10.0.0.1\", \"10.0.0.1:3260\"]", line: 3, "portal 10.0.0.1:3260 is listed twice in this target (first on line 3)")
        check("portals = [\"1.2.3.4\"]\n[[target.portal_group]]\ntag = 1\nportals = [\"1.2.3.5\"]", line: 3, "either 'portals' or [[target.portal_group]]")
        check("[[target.portal_group]]\ntag = 1\nportals = [\"1.2.3.4\"]\n[[target.portal_group]]\ntag = 1\nportals = [\"1.2.3.5\"]", line: 7, "portal group tag 1 is used twice in this target (first on line 4)")
        check("[[target.portal_group]]\ntag = 0\nportals = [\"1.2.3.4\"]", line: 4, "'tag' must be between 1 and 65535, not 0")
        check("[[target.portal_group]]\ntag = 3", line: 3, "[[target.portal_group]] has no portals")
        check("portals = [\"storage.example.com:3260\"]", line: 3, "host names are not accepted")
        check("[target.portal_group]\ntag = 1\nportals = [\"1.2.3.4\"]", line: 3, "write [[target.portal_group]] with double brackets")
    }

    @Test func targetWithoutLUNs() {
        expectSingleError("[[target]]\nname = \"iqn.2026-11.io.swiftport:t\"\nportals = [\"127.0.0.1\"]", line: 1, "target 'iqn.2026-11.io.swiftport:t' has no LUNs")
    }

    @Test func fileWithoutTargets() {
        expectSingleError("[daemon]\nlog_level = \"info\"", line: 1, "the file defines no targets")
    }

    @Test func duplicatesAcrossTheFile() {
        let text = Self.minimalTarget + "\nserial = \"S1\"\n[[target.lun]]\nid = 0\nbackend = \"ram\"\nsize = 512\nserial = \"S1\"\n"
            + Self.minimalTarget
        let found = configurationErrors(text)
        #expect(found.map(\.line) == [11, 14, 16], "\(found)")
        #expect(found.map(\.message) == [
            "LUN 0 is defined twice in this target (first on line 6)",
            "serial 'S1' is already used by the LUN on line 9; multipath would treat both LUNs as one device",
            "target 'iqn.2026-11.io.swiftport:t' is defined twice (first on line 2)",
        ])
    }

    @Test func everyErrorIsCollectedInLineOrder() {
        let text = """
            [daemon]
            log_level = "INFO"
            nop_in_intervall = 5

            [[target]]
            name = "iqn.2026-11.IO.swiftport:x"
            portals = ["127.0.0.1:3260", "::1"]
            allowed_networks = ["10.0.0.1/8"]

            [[target.lun]]
            id = 0
            backend = "ram"
            size = "1GB"
            blocksize = 512
            """
        let found = configurationErrors(text)
        #expect(found.map(\.line) == [2, 3, 6, 7, 8, 13, 14], "\(found)")
        #expect(found.allSatisfy { $0.file == "conf/x.toml" })
        #expect(ConfigurationErrors(found).description.split(separator: "\n").count == 7)
        #expect(found[5].description == "conf/x.toml:13: unknown size unit 'GB' in '1GB'; units are powers of 1024: K/KiB, M/MiB, G/GiB, T/TiB; write \"1GiB\"")
    }

    @Test func syntaxErrorIsTheOnlyError() {
        expectSingleError("[daemon]\nlog_level = info\n", line: 2, "strings must be quoted: write \"info\"")
    }

    @Test func errorDescriptionFormat() {
        let error = ConfigurationError(file: "conf/x.toml", line: 12, message: "'block_size' must be 512 or 4096, not 1000", suggestion: "write block_size = 512")
        #expect(error.description == "conf/x.toml:12: 'block_size' must be 512 or 4096, not 1000; write block_size = 512")
        #expect(ConfigurationError(file: "f", line: 1, message: "m").description == "f:1: m")
    }
}

extension String {
    /// Plain substring replacement, so the tests need no Foundation.
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

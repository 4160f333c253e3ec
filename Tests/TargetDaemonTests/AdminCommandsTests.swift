import DaemonConfiguration
import ISCSITransport
import LUNBackends
import Logging
import NIOPosix
import SCSIEngine
import TargetDaemon
import Testing

/// The admin command layer (what the socket runs) with nothing listening: the portals
/// are never started.
@Suite("Admin commands")
struct AdminCommandsTests {
    static let logger = Logger(label: "admin-test") { _ in SwiftLogNoOpLogHandler() }

    static func target(_ name: String, luns: [UInt16]) -> ExportedTarget {
        let descriptors = luns.map { lun in
            LogicalUnitDescriptor(
                lun: lun, device: RAMBlockDevice(blockCount: 2048), product: "DISK", revision: "1", serial: "S\(lun)",
                naaIdentifier: LogicalUnitDescriptor.naaIdentifier(seed: "\(name)/\(lun)"))
        }
        let device = SCSITargetDevice(targetName: name, logicalUnits: descriptors, logger: logger)
        return ExportedTarget(name: name, device: device, portalGroups: [.init(tag: 1, portals: [Portal(host: "127.0.0.1", port: 3260)])])
    }

    static func commands(_ targets: [ExportedTarget]) -> AdminCommands {
        let services = TargetServices(targets: targets, logger: logger)
        let server = TargetServer(services: services, group: MultiThreadedEventLoopGroup.singleton)
        return AdminCommands(services: services, portals: PortalControl(server: server, services: services, logger: logger)) { lun, targetName in
            try await TargetAssembly.logicalUnit(lun, targetName: targetName, dsm: DSMSettings(), cluster: nil, threadPool: .singleton, logger: logger)
        }
    }

    @Test("resize grows the LUN and list shows the new size")
    func resize() async {
        let admin = Self.commands([Self.target("iqn.2026-11.test:a", luns: [0, 1])])
        let resized = await admin.execute(AdminRequest(arguments: ["lun", "resize", "1", "2MiB"]))
        #expect(resized.ok, "\(resized.output)")
        #expect(resized.output.contains("LUN 1: 4096 blocks of 512 bytes"))
        let list = await admin.execute(AdminRequest(arguments: ["lun", "list"]))
        #expect(list.output.contains("LUN 0: 2048 blocks") && list.output.contains("LUN 1: 4096 blocks"))
    }

    @Test("lun add makes a LUN with the configuration file's defaults and the options given")
    func lunAdd() async throws {
        let target = Self.target("iqn.2026-11.test:a", luns: [0])
        let admin = Self.commands([target])
        let added = await admin.execute(AdminRequest(arguments: [
            "lun", "add", "iqn.2026-11.test:a", "3", "--backend", "ram", "--size", "2MiB", "--block-size", "4096", "--read-only", "--product", "SCRATCH",
        ]))
        #expect(added.ok, "\(added.output)")
        #expect(added.output.contains("LUN 3 added: 512 blocks of 4096 bytes"), "\(added.output)")
        #expect(target.device.logicalUnitNumbers == [0, 3])
    }

    @Test("bad requests are refused with what to type instead", arguments: [
        (["lun", "resize", "0"], "takes LUN SIZE"),
        (["lun", "resize", "x", "1MiB"], "must be a number"),
        (["lun", "resize", "0", "1GB"], "powers of 1024"),
        (["lun", "resize", "0", "1000", "--target", "iqn.2026-11.test:b"], "whole number"),
        (["lun", "resize", "9", "1MiB"], "no LUN 9"),
        (["lun", "resize", "0", "1MiB"], "--target"),
        (["lun", "resize", "0", "0", "--target", "iqn.2026-11.test:a"], "zero blocks"),
        // lun add: the configuration file's rules, answered with the option at fault.
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "ram", "--size", "1000"], "--size 1000: 'size' must be a positive multiple of the block size 512"),
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "ram"], "has no 'size'"),
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "tape", "--size", "1MiB"], "--backend tape: 'backend' must be"),
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "file", "--path", "relative.img"], "--path relative.img: 'path' must be absolute"),
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "ram", "--size", "1MiB", "--block-size", "1000"], "--block-size 1000: 'block_size' must be 512 or 4096"),
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "ram", "--size", "1MiB", "--serial", String(repeating: "S", count: 80)], ": 'serial' must be 1 to"),
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "block", "--path", "/dev/null", "--size", "1MiB"], "--size 1MiB: 'size' does not apply to a block device"),
        (["lun", "add", "iqn.2026-11.test:a", "3", "--backend", "remote"], "remote LUNs come from the configuration file"),
        (["lun", "add", "iqn.2026-11.test:a", "0", "--backend", "ram", "--size", "1MiB"], "already has LUN 0"),
    ])
    func refusals(arguments: [String], expected: String) async {
        let admin = Self.commands([Self.target("iqn.2026-11.test:a", luns: [0]), Self.target("iqn.2026-11.test:b", luns: [0])])
        let response = await admin.execute(AdminRequest(arguments: arguments))
        #expect(!response.ok)
        #expect(response.output.contains(expected), "\(response.output)")
    }

    /// SplitMix64: a seeded generator, so a failing sequence can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("nothing the socket accepts crashes the daemon: 3000 seeded requests from the command vocabulary")
    func arbitraryRequests() async {
        let admin = Self.commands([Self.target("iqn.2026-11.test:a", luns: [0, 1])])
        let words = [
            "status", "sessions", "portal", "list", "disable", "enable", "fault", "set", "clear", "alua", "show", "lun",
            "resize", "profile", "--json", "--target", "--latency-ms", "--drop-every", "--fail-sense", "--preferred",
            "--no-preferred", "all", "standby", "active-optimized", "unavailable", "transitioning", "0", "1", "2", "65535",
            "65536", "-1", "", " ", "1MiB", "0MiB", "1T", "99999999999999999999", "127.0.0.1:3260", "[::1]:3260",
            "127.0.0.1:99999", "02/04/0B", "ZZ/ZZ/ZZ", "iqn.2026-11.test:a", "\u{0}", String(repeating: "x", count: 5000),
        ]
        var generator = SeededGenerator(state: 20261124)
        var refused = 0
        for _ in 0..<3000 {
            let arguments = (0..<Int.random(in: 0...6, using: &generator)).map { _ in words.randomElement(using: &generator)! }
            let response = await admin.execute(AdminRequest(arguments: arguments))
            if !response.ok {
                refused += 1
                #expect(!response.output.isEmpty, "a refusal of \(arguments) must say why")
            }
        }
        #expect(refused > 0)
    }
}

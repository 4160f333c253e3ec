import ISCSITransport
import LUNBackends
import Logging
import NIOPosix
import SCSIEngine
import TargetDaemon
import Testing

/// `lun list` and `lun resize` through the admin command layer (what the socket runs),
/// with nothing listening: the portals are never started.
@Suite("Admin: lun list and lun resize")
struct AdminLUNCommandsTests {
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
        return AdminCommands(services: services, portals: PortalControl(server: server, services: services, logger: logger))
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

    @Test("bad requests are refused with what to type instead", arguments: [
        (["lun", "resize", "0"], "takes LUN SIZE"),
        (["lun", "resize", "x", "1MiB"], "must be a number"),
        (["lun", "resize", "0", "1GB"], "powers of 1024"),
        (["lun", "resize", "0", "1000", "--target", "iqn.2026-11.test:b"], "whole number"),
        (["lun", "resize", "9", "1MiB"], "no LUN 9"),
        (["lun", "resize", "0", "1MiB"], "--target"),
        (["lun", "resize", "0", "0", "--target", "iqn.2026-11.test:a"], "zero blocks"),
    ])
    func refusals(arguments: [String], expected: String) async {
        let admin = Self.commands([Self.target("iqn.2026-11.test:a", luns: [0]), Self.target("iqn.2026-11.test:b", luns: [0])])
        let response = await admin.execute(AdminRequest(arguments: arguments))
        #expect(!response.ok)
        #expect(response.output.contains(expected), "\(response.output)")
    }
}

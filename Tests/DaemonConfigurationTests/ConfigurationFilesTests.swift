import ISCSISession
import SCSIProtocol
import Testing

@testable import DaemonConfiguration

/// The shipped configuration files, and loading from disk.
@Suite("Configuration files")
struct ConfigurationFilesTests {
    /// The repository root, found from this file's path (Tests/DaemonConfigurationTests/<file>).
    private static let repositoryRoot: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    @Test func embeddedQuickstartIsByteIdenticalToTheRepositoryFile() throws {
        let text = try ConfigurationFile.read(Self.repositoryRoot + "/conf/quickstart.toml")
        #expect(Array(text.utf8) == Array(SwiftportConfiguration.embeddedQuickstart.utf8))
    }

    @Test func quickstartIsTheDocumentedSetup() throws {
        let configuration = try SwiftportConfiguration.parse(SwiftportConfiguration.embeddedQuickstart, file: "quickstart.toml")
        #expect(configuration.daemon == DaemonSettings())
        #expect(configuration.discoveryAuth == nil)
        let target = try #require(configuration.targets.first)
        #expect(configuration.targets.count == 1)
        #expect(target.name == "iqn.2026-11.io.swiftport:quickstart")
        #expect(target.auth == nil)
        #expect(target.portalGroups == [PortalGroupConfiguration(tag: 1, portals: [PortalAddress(host: "127.0.0.1")])])
        #expect(target.luns.map(\.id) == [0])
        #expect(target.luns.first?.backend == .ram(size: 1 << 30))
    }

    @Test func exampleLoadsWithEveryFeature() throws {
        let configuration = try SwiftportConfiguration.load(contentsOf: Self.repositoryRoot + "/conf/example.toml")
        #expect(configuration.targets.map(\.name) == [
            "iqn.2026-11.io.swiftport:db", "iqn.2026-11.io.swiftport:archive", "iqn.2026-11.io.swiftport:scratch",
        ])
        #expect(configuration.discoveryAuth?.username == "discovery")
        let database = configuration.targets[0]
        #expect(database.portalGroups.map(\.tag) == [1, 2])
        #expect(database.portalGroups.map(\.aluaState) == [.activeOptimized, .activeNonOptimized])
        #expect(database.portalGroups.map(\.preferred) == [true, false])
        #expect(database.auth?.mutualUsername == "db-target")
        #expect(database.allowedInitiators.count == 2)
        #expect(database.allowedNetworks.count == 3)
        #expect(database.luns.map(\.backend) == [
            .file(path: "/var/lib/swiftport/luns/db-data.img", size: 100 << 30),
            .file(path: "/var/lib/swiftport/luns/db-log.img", size: nil),
        ])
        #expect(database.luns.map(\.serial) == ["DB0000000001", "DB0000000002"])
        #expect(database.luns[0].blockSize == 4096)
        #expect(database.luns[1].writeCache == false)
        let archive = configuration.targets[1]
        #expect(archive.auth?.mutualSecret == nil)
        #expect(archive.luns.first?.readOnly == true)
        #expect(configuration.targets[2].luns.map(\.id) == [0, 7])
    }

    @Test func loadReportsAMissingFile() {
        #expect(throws: ConfigurationReadError(path: "/nonexistent/x.toml", reason: "No such file or directory")) {
            try SwiftportConfiguration.load(contentsOf: "/nonexistent/x.toml")
        }
    }

    @Test func loadReportsADirectory() {
        #expect(throws: ConfigurationReadError.self) {
            try SwiftportConfiguration.load(contentsOf: Self.repositoryRoot + "/conf")
        }
    }

    @Test func errorsNameTheFileAsGiven() throws {
        let path = Self.repositoryRoot + "/conf/quickstart.toml"
        _ = try SwiftportConfiguration.load(contentsOf: path)
        #expect(throws: ConfigurationErrors([ConfigurationError(file: path, line: 1, message: "the file defines no targets", suggestion: "add a [[target]] section with a name, portals and a [[target.lun]]")])) {
            try SwiftportConfiguration.parse("", file: path)
        }
    }
}

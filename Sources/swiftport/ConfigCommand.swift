import ArgumentParser
import DaemonConfiguration
import TargetDaemon

/// `swiftport config ...`: work with configuration files without a running daemon.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with Swiftport configuration files.",
        subcommands: [Check.self]
    )

    /// The configuration at `path` (the embedded quickstart without one), or, on a bad
    /// file, its problems on standard error and exit status 1 (invalid) or 2 (unreadable).
    static func loadOrExit(_ path: String?) throws -> SwiftportConfiguration {
        do {
            return try SwiftportConfiguration.load(contentsOf: path)
        } catch let errors as ConfigurationErrors {
            StandardError.print(errors.description)
            throw ExitCode(1)
        } catch let error as ConfigurationReadError {
            StandardError.print(error.description)
            throw ExitCode(2)
        }
    }

    /// `swiftport config check FILE`: validate a file the way the daemon would load it.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and list every problem in it.",
            discussion: """
                Prints "FILE: OK (N targets, M LUNs, P portals)" when the file is valid (P counts \
                the portals of every target's portal groups). Otherwise prints each problem as \
                FILE:LINE: message on standard error.
                Exit status: 0 valid, 1 invalid, 2 the file cannot be read.
                """
        )

        @Argument(help: "The TOML configuration file, e.g. conf/example.toml.")
        var file: String

        func run() async throws {
            let targets = try ConfigCommand.loadOrExit(file).targets
            let luns = targets.reduce(0) { $0 + $1.luns.count }
            let portals = targets.reduce(0) { $0 + $1.portalGroups.reduce(0) { $0 + $1.portals.count } }
            print("\(file): OK (\(targets.count) targets, \(luns) LUNs, \(portals) portals)")
        }
    }
}

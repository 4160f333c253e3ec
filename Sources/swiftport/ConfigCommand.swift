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

    /// `swiftport config check FILE...`: validate files the way the daemon would load
    /// them; several files of one gateway cluster are checked against each other too.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate configuration files and list every problem in them.",
            discussion: """
                Prints "FILE: OK (N targets, M LUNs, P portals)" for each valid file (P counts \
                the portals of every target's portal groups). Otherwise prints each problem as \
                FILE:LINE: message on standard error. Given the files of every gateway of one \
                [cluster], also checks that they agree: the cluster, the gateways and their \
                target port groups, and the same targets and LUNs with the same identity.
                Exit status: 0 valid, 1 invalid or disagreeing, 2 a file cannot be read.
                """
        )

        @Argument(help: "The TOML configuration files, e.g. conf/example.toml, or every gateway's.")
        var files: [String]

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one configuration file") }
        }

        func run() async throws {
            var loaded: [(file: String, configuration: SwiftportConfiguration)] = []
            for file in files {
                let configuration = try ConfigCommand.loadOrExit(file)
                let targets = configuration.targets
                let luns = targets.reduce(0) { $0 + $1.luns.count }
                let portals = targets.reduce(0) { $0 + $1.portalGroups.reduce(0) { $0 + $1.portals.count } }
                print("\(file): OK (\(targets.count) targets, \(luns) LUNs, \(portals) portals)")
                loaded.append((file, configuration))
            }
            guard loaded.count > 1 else { return }
            let disagreements = GatewayFiles.disagreements(loaded)
            for problem in disagreements { StandardError.print(problem) }
            guard disagreements.isEmpty else { throw ExitCode(1) }
            print("the \(loaded.count) gateways' files agree")
        }
    }
}

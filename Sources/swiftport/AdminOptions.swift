import ArgumentParser
import DaemonConfiguration
import TargetDaemon

/// Where to find the daemon's admin socket: `--socket`, or the `admin_socket` of
/// `--config`, or the default.
struct AdminOptions: ParsableArguments {
    @Option(help: "Path of swiftportd's admin socket.")
    var socket: String?

    @Option(help: "Read the admin socket path from this configuration file.")
    var config: String?

    func socketPath() throws -> String {
        if let socket { return socket }
        if let config { return try SwiftportConfiguration.load(contentsOf: config).daemon.adminSocketPath }
        return DaemonSettings().adminSocketPath
    }

    /// Sends a request and prints the answer; a refused request exits 1.
    func run(_ arguments: [String]) async throws {
        let response = try await AdminClient.send(arguments, socketPath: try socketPath())
        if response.ok {
            print(response.output)
        } else {
            StandardError.print("swiftport: \(response.output)")
            throw ExitCode(1)
        }
    }
}

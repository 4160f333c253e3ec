import ArgumentParser

/// The `swiftport` command-line tool: administration of a running daemon and offline
/// checks. Each subcommand lives in its own file; this root only lists them.
@main
struct Swiftport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftport",
        abstract: "Administer and check Swiftport, an iSCSI target daemon.",
        subcommands: [ConfigCommand.self, StatusCommand.self, SessionsCommand.self, PortalCommand.self, FaultCommand.self, ALUACommand.self, LUNCommand.self, ProfileCommand.self, DSMCommand.self, CDBCommand.self, ClusterCommand.self]
    )
}

import ArgumentParser
import TargetDaemon

/// `swiftport profile multipath-conf|mpio-inf`: initiator-side multipath settings for the
/// LUNs of a configuration (one entry per distinct INQUIRY vendor/product).
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Print initiator multipath settings for the LUNs of a configuration.",
        subcommands: [MultipathConf.self, MPIOInf.self]
    )

    /// The configuration to read: `--config FILE`, or the embedded quickstart.
    struct Source: ParsableArguments {
        @Option(help: "Configuration file (TOML); default: the embedded quickstart.")
        var config: String?

        func models() throws -> [InitiatorProfiles.DeviceModel] {
            InitiatorProfiles.deviceModels(of: try ConfigCommand.loadOrExit(config))
        }
    }

    /// `swiftport profile multipath-conf`: a multipath.conf `devices` section.
    struct MultipathConf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "multipath-conf",
            abstract: "Print a Linux multipath.conf devices section (ALUA, group_by_prio) for the configured LUNs."
        )
        @OptionGroup var source: Source
        func run() async throws { print(InitiatorProfiles.multipathConf(for: try source.models()), terminator: "") }
    }

    /// `swiftport profile mpio-inf`: MPIOSupportedDeviceList AddReg lines.
    struct MPIOInf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mpio-inf",
            abstract: "Print Windows MPIO AddReg lines (MPIOSupportedDeviceList hardware IDs) for a DSM INF."
        )
        @OptionGroup var source: Source
        func run() async throws { print(InitiatorProfiles.mpioAddReg(for: try source.models()), terminator: "") }
    }
}

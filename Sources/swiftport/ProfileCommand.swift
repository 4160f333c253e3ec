import ArgumentParser
import TargetDaemon

/// `swiftport profile multipath-conf|mpio-inf|esxi|windows`: initiator-side multipath settings for the
/// LUNs of a configuration (one entry per distinct INQUIRY vendor/product).
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Print initiator multipath settings for the LUNs of a configuration.",
        subcommands: [MultipathConf.self, MPIOInf.self, ESXi.self, Windows.self]
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
    struct MultipathConf: ProfileSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "multipath-conf",
            abstract: "Print a Linux multipath.conf devices section (ALUA, group_by_prio) for the configured LUNs."
        )
        @OptionGroup var source: Source
        static let render = InitiatorProfiles.multipathConf
    }

    /// `swiftport profile mpio-inf`: MPIOSupportedDeviceList AddReg lines.
    struct MPIOInf: ProfileSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "mpio-inf",
            abstract: "Print Windows MPIO AddReg lines (MPIOSupportedDeviceList hardware IDs) for a DSM INF."
        )
        @OptionGroup var source: Source
        static let render = InitiatorProfiles.mpioAddReg
    }

    /// `swiftport profile esxi`: SATP claim rules for VMW_SATP_ALUA with VMW_PSP_RR.
    struct ESXi: ProfileSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "esxi",
            abstract: "Print the esxcli SATP claim rules (VMW_SATP_ALUA, VMW_PSP_RR, iops=1) for the configured LUNs."
        )
        @OptionGroup var source: Source
        static let render = InitiatorProfiles.esxiClaimRules
    }

    /// `swiftport profile windows`: MSDSM claim, policy and MPIO timers in PowerShell.
    struct Windows: ProfileSubcommand {
        static let configuration = CommandConfiguration(
            commandName: "windows",
            abstract: "Print the PowerShell lines that make MSDSM claim the configured LUNs, with its failover timers."
        )
        @OptionGroup var source: Source
        static let render = InitiatorProfiles.windowsMSDSM
    }
}

/// A `swiftport profile` subcommand: prints what `render` makes of the configuration's
/// device models.
protocol ProfileSubcommand: AsyncParsableCommand {
    static var render: ([InitiatorProfiles.DeviceModel]) -> String { get }
    var source: ProfileCommand.Source { get }
}

extension ProfileSubcommand {
    func run() async throws { print(Self.render(try source.models()), terminator: "") }
}

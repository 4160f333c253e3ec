import ArgumentParser

/// `swiftport alua show|set`: the ALUA state (SPC-4 §5.15) of each LUN through each
/// target port group (portal group) of the running daemon, and implicit transitions on
/// the operator's request. Initiators see a change as ASYMMETRIC ACCESS STATE CHANGED.
struct ALUACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alua",
        abstract: "Show or change the ALUA state of LUNs per target port group.",
        subcommands: [Show.self, Set.self]
    )

    /// `swiftport alua show`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every LUN's state through every target port group.")
        @OptionGroup var admin: AdminOptions
        @Flag(help: "Print JSON.") var json = false
        func run() async throws { try await admin.run(["alua", "show"] + (json ? ["--json"] : [])) }
    }

    /// `swiftport alua set LUN TPG STATE`.
    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a LUN's state through a target port group.",
            discussion: """
                STATE is active-optimized, active-non-optimized, standby, unavailable or transitioning.
                swiftport alua set 0 2 standby
                swiftport alua set all 1 active-optimized --preferred
                swiftport alua set 0 2 active-non-optimized --target iqn.2026-11.io.swiftport:db
                """
        )
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The LUN, or 'all'.") var lun: String
        @Argument(help: "The target port group: a portal group tag.") var tpg: String
        @Argument(help: "active-optimized, active-non-optimized, standby, unavailable or transitioning.") var state: String
        @Flag(inversion: .prefixedNo, help: "Set or clear PREF (the preferred group); unchanged when not given.")
        var preferred: Bool?
        @Option(help: "Only this target (default: every target with the group).") var target: String?
        func run() async throws {
            var arguments = ["alua", "set", lun, tpg, state]
            if let preferred { arguments.append(preferred ? "--preferred" : "--no-preferred") }
            if let target { arguments += ["--target", target] }
            try await admin.run(arguments)
        }
    }
}

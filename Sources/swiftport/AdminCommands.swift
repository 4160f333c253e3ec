import ArgumentParser

/// `swiftport status`: portals, targets, LUNs and session count of the running daemon.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the running daemon's portals, targets and sessions.")
    @OptionGroup var admin: AdminOptions
    @Flag(help: "Print JSON.") var json = false
    func run() async throws { try await admin.run(["status"] + (json ? ["--json"] : [])) }
}

/// `swiftport sessions`: every logged-in session.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "List the sessions of the running daemon.")
    @OptionGroup var admin: AdminOptions
    @Flag(help: "Print JSON.") var json = false
    func run() async throws { try await admin.run(["sessions"] + (json ? ["--json"] : [])) }
}

/// `swiftport portal list|disable|enable`.
struct PortalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal",
        abstract: "List portals, or disable one (stop listening, drop its sessions) and enable it again.",
        discussion: "ACTION is list, disable or enable; ADDR is the portal as configured, e.g. 127.0.0.1:3260 or [::1]:3260."
    )
    @OptionGroup var admin: AdminOptions
    @Argument(help: "list, disable or enable.") var action: String
    @Argument(help: "The portal address (for disable and enable).") var address: String?
    func run() async throws { try await admin.run(["portal", action] + (address.map { [$0] } ?? [])) }
}

/// `swiftport fault set|clear|list`: fault injection per portal.
struct FaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault",
        abstract: "Inject faults on a portal to test initiators' multipath, until cleared.",
        discussion: """
            swiftport fault set 127.0.0.1:3260 --latency-ms 200
            swiftport fault set 127.0.0.1:3260 --drop-every 2
            swiftport fault set 127.0.0.1:3260 --fail-sense 02/04/0B
            swiftport fault clear 127.0.0.1:3260
            """
    )
    @OptionGroup var admin: AdminOptions
    @Argument(help: "set, clear or list.") var action: String
    @Argument(help: "The portal address.") var address: String?
    @Option(help: "Delay every SCSI response by this many milliseconds.") var latencyMs: Int?
    @Option(help: "Drop every Nth new connection.") var dropEvery: Int?
    @Option(help: "Fail every SCSI command with this sense KEY/ASC/ASCQ (hex).") var failSense: String?
    func run() async throws {
        var arguments = ["fault", action] + (address.map { [$0] } ?? [])
        if let latencyMs { arguments += ["--latency-ms", String(latencyMs)] }
        if let dropEvery { arguments += ["--drop-every", String(dropEvery)] }
        if let failSense { arguments += ["--fail-sense", failSense] }
        try await admin.run(arguments)
    }
}

/// `swiftport lun list|resize|add|remove`: LUN sizes, online resize, and LUNs added
/// and removed while the daemon runs.
struct LUNCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lun",
        abstract: "List the LUNs' sizes, resize one online, or add and remove LUNs live.",
        discussion: """
            swiftport lun list
            swiftport lun resize 0 2GiB [--target iqn....]
            A file LUN is truncated to the new size; a block-device LUN must have grown
            first (lvextend). Initiators get CAPACITY DATA HAS CHANGED and re-read the
            capacity (Linux: echo 1 > /sys/block/sdX/device/rescan if it does not).
            Shrinking drops the data past the new end. Change the size in the
            configuration file too: at the next start the configured size applies.

            swiftport lun add TARGET LUN --backend ram --size 1GiB
            swiftport lun add TARGET LUN --backend file --path FILE [--size SIZE] [--thick]
            swiftport lun add TARGET LUN --backend block --path DEVICE
              also: --block-size 512|4096, --serial S, --product P, --read-only
            swiftport lun remove TARGET LUN
            Initiators get REPORTED LUNS DATA HAS CHANGED and rescan (Linux:
            iscsiadm -m session --rescan). A removed LUN first finishes the commands
            in it, then answers LOGICAL UNIT NOT SUPPORTED. Change the configuration
            file too: at the next start it applies.
            """
    )
    @OptionGroup var admin: AdminOptions
    @Argument(help: "list, resize, add or remove.") var action: String
    @Argument(parsing: .allUnrecognized, help: "What the action takes (see above).") var values: [String] = []
    @Option(help: "The target whose LUN to resize, when several have that LUN.") var target: String?
    @Flag(help: "Print JSON (list).") var json = false
    func run() async throws {
        try await admin.run(["lun", action] + values + (target.map { ["--target", $0] } ?? []) + (json ? ["--json"] : []))
    }
}

/// `swiftport cluster status`: the daemon's gateway cluster.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the gateway cluster: each gateway's client and whether it answers, the ALUA states, the fences made.",
        discussion: "ACTION is status. The daemon pings the other gateways through the cluster (up to 2 s)."
    )
    @OptionGroup var admin: AdminOptions
    @Argument(help: "status.") var action: String
    @Flag(help: "Print JSON.") var json = false
    func run() async throws { try await admin.run(["cluster", action] + (json ? ["--json"] : [])) }
}

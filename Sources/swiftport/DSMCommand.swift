import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import DaemonConfiguration
import ISCSITransport
import Logging
import MultipathDSM
import NIOCore
import RemoteLUN
import TargetDaemon

/// `swiftport dsm scan|io`: Swiftport's own initiator and DSM from the command line
/// (ARCHITECTURE.md §4): log in through every portal, claim devices by the
/// MPIOSupportedDeviceList, group paths by identity, and drive I/O across them.
struct DSMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dsm",
        abstract: "Discover, claim and exercise multipath devices on upstream portals.",
        subcommands: [Scan.self, IO.self]
    )

    /// Options shared by both subcommands.
    struct Discovery: ParsableArguments {
        @Option(name: .customLong("portal"), help: "An upstream portal ADDR[:PORT]; repeat for each path.")
        var portals: [String] = []

        @Option(help: "Read MPIOSupportedDeviceList entries from this Windows INF file.")
        var inf: String?

        @Option(name: .customLong("supported"), help: "A supported-device entry: 8-character vendor + up to 16-character product prefix. Repeatable. Default without --inf: \"SWIFTPRT\".")
        var supported: [String] = []

        @Option(help: "The initiator name to log in with.")
        var initiatorName = "iqn.2026-11.io.swiftport:dsm"

        @Option(help: "Only this target name.")
        var target: String?

        @Option(help: "Load-balance policy: FOO, RR, RRWS, LQD, WP, LB (MSDSM names).")
        var policy: String = "RRWS"

        @OptionGroup(title: "Upstream CHAP (as [dsm.auth] and [dsm.discovery_auth])")
        var chap: UpstreamCHAPOptions

        func validate() throws {
            _ = try chap.authentication()
        }

        func portalList() throws -> [Portal] {
            guard !portals.isEmpty else { throw ValidationError("give at least one --portal ADDR[:PORT]") }
            return try portals.map { text in
                do {
                    let address = try PortalAddress(parsing: text)
                    return Portal(host: address.host, port: address.port)
                } catch {
                    throw ValidationError("--portal \(text): \(error)")
                }
            }
        }

        func supportedDevices() throws -> SupportedDeviceList {
            var list = SupportedDeviceList()
            var errors: [MultipathDSMError] = []
            if let inf {
                let text: String
                do { text = try String(contentsOfFile: inf, encoding: .utf8) } catch {
                    throw ValidationError("cannot read \(inf): \(error)")
                }
                let parsed = SupportedDeviceList.parsing(inf: text, file: inf)
                list.append(contentsOf: parsed.list.entries)
                errors += parsed.errors
            }
            let lines = (supported.isEmpty && inf == nil ? ["SWIFTPRT"] : supported).enumerated().map { (text: $0.element, line: $0.offset + 1) }
            let parsed = SupportedDeviceList.parsing(config: lines, file: "--supported")
            list.append(contentsOf: parsed.list.entries)
            errors += parsed.errors
            guard errors.isEmpty else { throw ValidationError(errors.map(\.description).joined(separator: "\n")) }
            return list
        }

        func loadBalancePolicy() throws -> LoadBalancePolicy {
            guard let policy = LoadBalancePolicy(rawValue: policy.uppercased()) else {
                throw ValidationError("--policy \(policy) is not one of FOO, RR, RRWS, LQD, WP, LB")
            }
            return policy
        }

        /// Scans, claims and groups; prints discovery errors to stderr (a wrong CHAP secret
        /// shows as "<portal>: … authentication failed (login status 0x0201)").
        func discover(logger: Logger) async throws -> (DSMScanner, DSMScanner.Result, PathGrouping) {
            let auth = try chap.authentication()
            let scanner = DSMScanner(
                initiatorName: initiatorName,
                authentication: DSMScanner.authentication(auth.session),
                discoveryAuthentication: DSMScanner.authentication(auth.discovery),
                logger: logger)
            let result = await scanner.scan(portals: try portalList(), targetFilter: target)
            for error in result.errors { StandardError.print("swiftport dsm: \(error)") }
            let grouping = PathGrouping(paths: result.paths.map(\.identity), supportedDevices: try supportedDevices())
            return (scanner, result, grouping)
        }
    }

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scan", abstract: "Log in through every portal and print claimed devices with their grouped paths (like multipath -ll).",
            discussion: "Exits non-zero when no path could be logged in to; each failure (unreachable portal, authentication failed) is printed with its portal. " + UpstreamCHAPOptions.secretSources)
        @OptionGroup var discovery: Discovery
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let logger = Logger(label: "swiftport.dsm") { _ in SwiftLogNoOpLogHandler() }
            let (_, result, grouping) = try await discovery.discover(logger: logger)
            let configuration = MultipathConfiguration(policy: try discovery.loadBalancePolicy())
            let devices = grouping.logicalUnits.map { MultipathDevice<ContinuousClock.Instant>($0, configuration: configuration, now: .now).status }
            let report = DSMScanReport(devices: devices, unclaimed: grouping.unclaimed)
            print(json ? report.json : report.text)
            for path in result.paths { await path.connection.logout() }
            if result.paths.isEmpty { throw ExitCode(1) }
        }
    }

    struct IO: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "io",
            abstract: "Run a verified read/write load through the DSM for a bounded time and print per-path counts.",
            discussion: "Disable a portal (swiftport portal disable ADDR on the upstream target) while it runs to watch failover and failback. A failed path is logged in again with exponential backoff (--reconnect-*). " + UpstreamCHAPOptions.secretSources
        )
        @OptionGroup var discovery: Discovery
        @Option(help: "How long to run, 1 to 3600 seconds.") var seconds = 10
        @Option(help: "I/O size in blocks.") var blocks = 8
        @Option(help: "Concurrent I/Os, 1 to 64.") var depth = 4
        @Option(name: .customLong("range-mib"), help: "Bytes of the device to use, in MiB.") var rangeMiB = 64
        @Option(help: "First delay before a failed path is tried (logged in) again, in milliseconds.") var reconnectInitialMs = 1000
        @Option(help: "Longest delay between two tries of a failed path, in milliseconds.") var reconnectMaxMs = 30000
        @Option(help: "Growth of the delay after each failed try (1 to 16).") var reconnectMultiplier: Double = 2
        @Option(help: "Up to this many percent of each delay are taken off at random (0 to 100).") var reconnectJitterPercent = 20

        func validate() throws {
            guard (1...3_600_000).contains(reconnectInitialMs), (reconnectInitialMs...3_600_000).contains(reconnectMaxMs) else {
                throw ValidationError("--reconnect-initial-ms must be 1 to 3600000 and --reconnect-max-ms from it to 3600000")
            }
            guard (1...16).contains(reconnectMultiplier), (0...100).contains(reconnectJitterPercent) else {
                throw ValidationError("--reconnect-multiplier must be 1 to 16 and --reconnect-jitter-percent 0 to 100")
            }
            guard (1...3600).contains(seconds) else { throw ValidationError("--seconds must be 1 to 3600") }
            guard (1...64).contains(depth) else { throw ValidationError("--depth must be 1 to 64") }
            guard (1...256).contains(blocks), rangeMiB >= 1 else { throw ValidationError("--blocks must be 1 to 256 and --range-mib at least 1") }
        }

        func run() async throws {
            var logger = Logger(label: "swiftport.dsm")
            logger.logLevel = .notice
            let (scanner, result, grouping) = try await discovery.discover(logger: logger)
            guard let unit = grouping.logicalUnits.first else {
                StandardError.print("swiftport dsm io: no claimed device on the given portals")
                throw ExitCode(1)
            }
            let paths = result.paths.filter { unit.paths.map(\.pathID).contains($0.identity.pathID) }
            let reconnect = ReconnectBackoff(
                initial: .milliseconds(reconnectInitialMs), maximum: .milliseconds(reconnectMaxMs),
                multiplier: reconnectMultiplier, jitter: Double(reconnectJitterPercent) / 100)
            let device = try RemoteBlockDevice(
                unit: unit, paths: paths,
                configuration: MultipathConfiguration(policy: try discovery.loadBalancePolicy(), checkerInterval: .seconds(1), reconnect: reconnect),
                scanner: scanner, logger: logger)
            await device.start()
            let load = VerifiedLoad(device: device, blocksPerIO: blocks, depth: depth, rangeBytes: UInt64(rangeMiB) << 20)
            let outcome = await load.run(for: .seconds(seconds)) { elapsed in
                let status = await device.status()
                let paths = status.paths.map { "\($0.portal): \($0.state) ios=\($0.counters.ios) errors=\($0.counters.errors)" }
                print("[\(elapsed)s] " + paths.joined(separator: " | "))
                // One report a second is for watching a failover live, also through a
                // pipe (| tee), where stdout would otherwise be block-buffered.
                fflush(nil)
            }
            await device.shutdown()
            print("ios=\(outcome.ios) errors=\(outcome.errors) verify_mismatches=\(outcome.mismatches)")
            if outcome.errors > 0 || outcome.mismatches > 0 { throw ExitCode(1) }
        }
    }
}

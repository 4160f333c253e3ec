import ArgumentParser
import CephCluster
import DaemonConfiguration
import ISCSITransport
import Logging
import NIOCore
import NIOPosix
import SCSIEngine
import ServiceLifecycle
import TargetDaemon
import UnixSignals

/// `swiftportd`: parses arguments, loads the configuration, wires the services
/// explicitly and runs them until SIGTERM/SIGINT (STYLE.md §8).
@main
struct SwiftportDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftportd",
        abstract: "Swiftport iSCSI target daemon.",
        discussion: """
            Without --config the daemon runs the embedded quickstart configuration \
            (conf/quickstart.toml: one 1 GiB RAM LUN on 127.0.0.1:3260).
            Exit codes: 0 clean shutdown, 66 a LUN backend could not be opened, \
            69 a portal could not be bound, 78 the configuration is invalid.
            """
    )

    @Option(name: .long, help: "Configuration file (TOML).")
    var config: String?

    @Option(name: .long, help: "Override [daemon] log_level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func run() async throws {
        let configuration: SwiftportConfiguration
        do {
            configuration = try SwiftportConfiguration.load(contentsOf: config)
        } catch {
            StandardError.print("swiftportd: refusing to start, the configuration is invalid:\n\(error)")
            throw ExitCode(DaemonError.Code.badConfiguration.exitCode)
        }

        if let threads = configuration.daemon.eventLoopThreads {
            // Before anything uses the shared event loop group (a remote LUN's connection does).
            NIOSingletons.groupLoopCountSuggestion = threads
        }
        let level = Logger.Level(rawValue: logLevel ?? configuration.daemon.logLevel) ?? .info
        let format = configuration.daemon.logFormat
        LoggingSystem.bootstrap { label in
            var handler = DaemonLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "swiftportd")
        HeapTuning.keepIOBuffersResident()

        let threadPool = NIOThreadPool(numberOfThreads: 4)
        threadPool.start()
        let exported: [ExportedTarget]
        let reservationStore: any ReservationStore
        do {
            reservationStore = try await TargetAssembly.reservationStore(for: configuration, threadPool: threadPool, logger: logger)
            exported = try await TargetAssembly.exportedTargets(
                from: configuration, reservationStore: reservationStore, threadPool: threadPool, logger: logger)
        } catch {
            logger.critical("cannot open a LUN backend: \(error)")
            try? await threadPool.shutdownGracefully()
            throw ExitCode(DaemonError.Code.backendFailed.exitCode)
        }
        let daemon = configuration.daemon
        let services = TargetServices(
            targets: exported,
            discoveryCredentials: configuration.discoveryAuth,
            policy: TargetAssembly.negotiationPolicy(daemon),
            nopInInterval: daemon.nopInInterval > 0 ? .seconds(Int64(daemon.nopInInterval)) : nil,
            nopInTimeout: .seconds(Int64(daemon.nopInTimeout)),
            logger: logger
        )
        let eventLoops = MultiThreadedEventLoopGroup.singleton
        let server = TargetServer(services: services, group: eventLoops)
        let portals = PortalControl(server: server, services: services, logger: logger)
        TargetAssembly.exitWhenFenced(reservationStore, portals: portals, services: services, logger: logger)
        let dsm = configuration.dsm
        let cluster = configuration.cluster
        let gatewayCluster = configuration.cluster.flatMap { cluster in
            (reservationStore as? RADOSReservationStore).map { (name: cluster.name, store: $0) }
        }
        let adminCommands = AdminCommands(services: services, portals: portals, gatewayCluster: gatewayCluster) { lun, targetName in
            try await TargetAssembly.logicalUnit(lun, targetName: targetName, dsm: dsm, cluster: cluster, threadPool: threadPool, logger: logger)
        }
        let group = ServiceGroup(
            services: [TargetService(
                portals: portals, services: services,
                adminSocket: (daemon.adminSocketPath, adminCommands, eventLoops), eventLoops: eventLoops, logger: logger
            )],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        do {
            try await group.run()
        } catch let error as DaemonError {
            logger.critical("\(error)")
            await TargetAssembly.leave(reservationStore, logger: logger)
            try? await threadPool.shutdownGracefully()
            throw ExitCode(error.code.exitCode)
        }
        await TargetAssembly.leave(reservationStore, logger: logger)
        try? await threadPool.shutdownGracefully()
        logger.info("swiftportd stopped")
    }
}

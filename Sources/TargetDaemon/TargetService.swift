import ISCSITransport
import Logging
import NIOCore
import ServiceLifecycle

/// The daemon's network face as a ServiceLifecycle service: binds every portal and the
/// admin socket, runs until graceful shutdown, then stops accepting and closes every
/// session.
public struct TargetService: Service {
    private let portals: PortalControl
    private let services: TargetServices
    private let admin: (path: String, commands: AdminCommands, group: any EventLoopGroup)?
    private let serviceManager: ServiceManagerNotifier
    /// The loops the watchdog keepalives vouch for.
    private let eventLoops: any EventLoopGroup
    private let logger: Logger

    public init(
        portals: PortalControl, services: TargetServices, adminSocket: (path: String, commands: AdminCommands, group: any EventLoopGroup)?,
        serviceManager: ServiceManagerNotifier = ServiceManagerNotifier(), eventLoops: any EventLoopGroup, logger: Logger
    ) {
        self.portals = portals
        self.services = services
        self.admin = adminSocket
        self.serviceManager = serviceManager
        self.eventLoops = eventLoops
        self.logger = logger
    }

    public func run() async throws {
        try await portals.start()
        var adminChannel: (any Channel)?
        if let admin {
            do {
                adminChannel = try await AdminServer.bind(path: admin.path, commands: admin.commands, group: admin.group, logger: logger)
                logger.info("admin socket ready", metadata: ["path": "\(admin.path)"])
            } catch {
                await portals.stop()
                throw DaemonError(.bindFailed, "cannot create the admin socket \(admin.path): \(error)")
            }
        }
        // Notice, so that a daemon logging only notices and worse still says when it serves.
        logger.notice("swiftportd ready", metadata: ["targets": "\(services.targets.map(\.name))"])
        serviceManager.ready(status: "serving \(services.targets.count) target(s)")
        let watchdog = serviceManager.watchdogInterval.map { interval in Task { await keepWatchdogFed(every: interval) } }
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        await withGracefulShutdownHandler {
            for await _ in stream {}
        } onGracefulShutdown: {
            continuation.finish()
        }
        watchdog?.cancel()
        serviceManager.stopping()
        logger.info("shutting down: closing listeners and sessions")
        await portals.stop()
        try? await adminChannel?.close()
        services.sessions.closeAll()
        await TargetAssembly.closeLogicalUnits(of: services.targets)
    }
}

extension TargetService {
    /// Sends `WATCHDOG=1` every `interval` while every event loop still runs a task
    /// (a loop that hangs stops the keepalives, and systemd restarts the daemon).
    private func keepWatchdogFed(every interval: Duration) async {
        while !Task.isCancelled {
            var alive = true
            for loop in eventLoops.makeIterator() {
                do { try await loop.submit {}.get() } catch { alive = false }
            }
            if alive { serviceManager.watchdog() }
            try? await Task.sleep(for: interval)
        }
    }
}

/// Why the daemon could not run; `exitCode` follows sysexits(3).
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable {
        public let exitCode: Int32
        private init(exitCode: Int32) { self.exitCode = exitCode }
        /// The configuration is invalid (EX_CONFIG).
        public static let badConfiguration = Code(exitCode: 78)
        /// A portal or the admin socket could not be bound (EX_UNAVAILABLE).
        public static let bindFailed = Code(exitCode: 69)
        /// A LUN backend could not be opened (EX_NOINPUT).
        public static let backendFailed = Code(exitCode: 66)
        /// The gateway cluster fenced this gateway; started again, it rejoins (EX_TEMPFAIL).
        public static let fenced = Code(exitCode: 75)
    }

    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

import ISCSITransport
import Logging
import NIOCore
import ServiceLifecycle

/// The iSCSI listeners as a ServiceLifecycle service: binds every portal, runs until
/// graceful shutdown, then stops accepting and closes every session.
public struct TargetService: Service {
    private let server: TargetServer
    private let services: TargetServices
    private let logger: Logger

    public init(server: TargetServer, services: TargetServices, logger: Logger) {
        self.server = server
        self.services = services
        self.logger = logger
    }

    public func run() async throws {
        var listeners: [any Channel] = []
        do {
            for portal in server.portals {
                listeners.append(try await server.listen(on: portal))
                logger.info("listening", metadata: ["portal": "\(portal)"])
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw DaemonError(.bindFailed, "cannot listen on every portal: \(error). Is another target (tgtd, LIO, a second swiftportd) using the port?")
        }
        logger.info("swiftportd ready", metadata: ["targets": "\(services.targets.map(\.name))"])
        let bound = listeners
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for listener in bound {
                    group.addTask { try? await listener.closeFuture.get() }
                }
            }
        } onGracefulShutdown: {
            logger.info("shutting down: closing listeners and sessions")
            for listener in bound { listener.close(promise: nil) }
            services.sessions.closeAll()
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
        /// A portal could not be bound (EX_UNAVAILABLE).
        public static let bindFailed = Code(exitCode: 69)
        /// A LUN backend could not be opened (EX_NOINPUT).
        public static let backendFailed = Code(exitCode: 66)
    }

    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

import ISCSITransport
import Logging
import NIOCore

/// Owns the listening sockets: binds every portal at start, and disables (stops
/// listening, drops that portal's sessions) or re-enables one at the operator's request
/// (`swiftport portal disable|enable ADDR`).
public actor PortalControl {
    private let server: TargetServer
    private let services: TargetServices
    private let logger: Logger
    private var listeners: [Portal: any Channel] = [:]
    private var disabled: Set<Portal> = []

    public init(server: TargetServer, services: TargetServices, logger: Logger) {
        self.server = server
        self.services = services
        self.logger = logger
    }

    /// Every configured portal, in configuration order.
    public var portals: [Portal] { server.portals }

    /// Binds every portal; on failure closes what was bound and throws.
    public func start() async throws {
        do {
            for portal in server.portals { try await bind(portal) }
        } catch {
            await stop()
            throw DaemonError(.bindFailed, "cannot listen on every portal: \(error). Is another target (tgtd, LIO, a second swiftportd) using the port?")
        }
    }

    /// Closes every listener.
    public func stop() async {
        for listener in listeners.values { try? await listener.close() }
        listeners = [:]
    }

    /// Whether a portal is accepting connections.
    public func isEnabled(_ portal: Portal) -> Bool { !disabled.contains(portal) && listeners[portal] != nil }

    /// Stops listening on a portal and drops every session that came in through it.
    public func disable(_ portal: Portal) async throws(AdminError) {
        guard server.portals.contains(portal) else { throw AdminError.unknownPortal(portal, known: server.portals) }
        disabled.insert(portal)
        if let listener = listeners.removeValue(forKey: portal) { try? await listener.close() }
        services.sessions.closeAll(onPortal: portal.description)
        logger.notice("portal disabled", metadata: ["portal": "\(portal)"])
    }

    /// Listens on a disabled portal again.
    public func enable(_ portal: Portal) async throws(AdminError) {
        guard server.portals.contains(portal) else { throw AdminError.unknownPortal(portal, known: server.portals) }
        disabled.remove(portal)
        guard listeners[portal] == nil else { return }
        do {
            try await bind(portal)
        } catch {
            throw AdminError.failed("cannot listen on \(portal) again: \(error)")
        }
        logger.notice("portal enabled", metadata: ["portal": "\(portal)"])
    }

    private func bind(_ portal: Portal) async throws {
        listeners[portal] = try await server.listen(on: portal)
        logger.info("listening", metadata: ["portal": "\(portal)"])
    }
}

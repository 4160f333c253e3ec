import ISCSIProtocol
import NIOCore
import NIOPosix

/// Listens on every portal and gives each accepted connection its own
/// `TargetConnectionHandler`, which frames what it reads and encodes what it sends
/// (ARCHITECTURE.md §5).
public final class TargetServer: Sendable {
    private let services: TargetServices
    private let group: any EventLoopGroup

    public init(services: TargetServices, group: any EventLoopGroup) {
        self.services = services
        self.group = group
    }

    /// Every portal of every target, once.
    public var portals: [Portal] {
        var seen = Set<Portal>()
        return services.targets.flatMap { $0.portalGroups.flatMap(\.portals) }.filter { seen.insert($0).inserted }
    }

    /// Binds one portal; the returned channel closes when the listener stops.
    public func listen(on portal: Portal) async throws -> any Channel {
        let services = services
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Reads of up to 1 MiB (NIO's default stops at 64 KiB): a 256 KiB Data-Out
            // PDU then mostly lies inside one read and reaches the task as a slice of it,
            // instead of being copied together from four or more reads.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1 << 20))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let framing = ISCSIFramingSettings()
                    try channel.pipeline.syncOperations.addHandler(
                        TargetConnectionHandler(services: services, portal: portal, framing: framing, peer: channel.remoteAddress, localAddress: channel.localAddress))
                }
            }
            .bind(host: portal.host, port: portal.port)
            .get()
    }
}

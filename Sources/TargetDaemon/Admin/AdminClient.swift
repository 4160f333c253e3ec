import Foundation
import NIOCore
import NIOPosix

/// The `swiftport` side of the admin socket: one request, one response.
public enum AdminClient {
    /// Sends `arguments` to the daemon listening on `socketPath` and returns its answer.
    public static func send(_ arguments: [String], socketPath: String) async throws -> AdminResponse {
        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: ByteBuffer.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(LineDecoder(maximumLength: 16 * 1024 * 1024)),
                            ResponseHandler(promise: promise),
                        ])
                    }
                }
                .connect(unixDomainSocketPath: socketPath)
                .get()
        } catch {
            throw AdminError.failed("cannot reach swiftportd at \(socketPath): \(error). Is the daemon running, and is this its admin_socket? (use --socket or --config)")
        }
        var request = try JSONEncoder().encode(AdminRequest(arguments: arguments))
        request.append(UInt8(ascii: "\n"))
        try await channel.writeAndFlush(ByteBuffer(bytes: request))
        let line = try await promise.futureResult.get()
        try? await channel.close()
        return try JSONDecoder().decode(AdminResponse.self, from: Data(line.readableBytesView))
    }

    private final class ResponseHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<ByteBuffer>
        init(promise: EventLoopPromise<ByteBuffer>) { self.promise = promise }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            promise.succeed(unwrapInboundIn(data))
        }
        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(AdminError.failed("swiftportd closed the admin connection without answering"))
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}

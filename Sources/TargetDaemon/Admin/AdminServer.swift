import Foundation
import Logging
import NIOCore
import NIOPosix

/// The admin socket: a Unix domain socket (mode 0600, owned by the daemon's user)
/// carrying one JSON `AdminRequest` per line and answering one JSON `AdminResponse`
/// per line. Input is bounded and malformed lines get an error response.
public enum AdminServer {
    /// Longest request line accepted.
    static let maximumRequestLength = 64 * 1024

    /// Binds the socket, replacing a stale socket file, and makes it 0600.
    public static func bind(path: String, commands: AdminCommands, group: any EventLoopGroup, logger: Logger) async throws -> any Channel {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineDecoder(maximumLength: maximumRequestLength)),
                        AdminConnectionHandler(commands: commands, logger: logger),
                    ])
                }
            }
            .bind(unixDomainSocketPath: path)
            .get()
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return channel
    }
}

/// Splits input into lines; a line longer than the limit closes the connection.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let maximumLength: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maximumLength { throw AdminError.usage("request longer than \(maximumLength) bytes") }
            return .needMoreData
        }
        let line = buffer.readSlice(length: newline - buffer.readerIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }
}

/// Decodes a request line, runs it, writes the response line.
final class AdminConnectionHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let commands: AdminCommands
    private let logger: Logger

    init(commands: AdminCommands, logger: Logger) {
        self.commands = commands
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        let channel = context.channel
        let commands = commands
        let logger = logger
        Task {
            let response: AdminResponse
            if let request = try? JSONDecoder().decode(AdminRequest.self, from: Data(line.readableBytesView)) {
                logger.info("admin request", metadata: ["arguments": "\(request.arguments)"])
                response = await commands.execute(request)
            } else {
                response = AdminResponse(ok: false, output: "malformed request: send one JSON object {\"arguments\": [...]} per line")
            }
            var encoded = (try? JSONEncoder().encode(response)).map { Data($0) } ?? Data("{\"ok\":false,\"output\":\"internal error\"}".utf8)
            encoded.append(UInt8(ascii: "\n"))
            channel.writeAndFlush(ByteBuffer(bytes: encoded), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

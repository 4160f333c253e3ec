import NIOCore

/// A pipeline handler around ``ISCSIPDUStreamDecoder``: bytes in, ``ISCSIInboundFrame``s
/// out (the initiator side's pipeline; the target's connection handler decodes itself).
/// A framing error is passed on with `fireErrorCaught` and everything after it is
/// dropped.
public final class ISCSIPDUFrameDecoder: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ISCSIInboundFrame

    private let settings: ISCSIFramingSettings
    private var stream = ISCSIPDUStreamDecoder()

    public init(settings: ISCSIFramingSettings) {
        self.settings = settings
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        do {
            while let frame = try stream.next(from: &input, settings: settings) {
                context.fireChannelRead(wrapInboundOut(frame))
            }
        } catch {
            context.fireErrorCaught(error)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stream.reset()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stream.reset()
    }
}

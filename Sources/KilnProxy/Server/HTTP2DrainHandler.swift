import NIOCore
import NIOHTTP2

/// Drains an HTTP/2 connection when the proxy stops: a GOAWAY says no new stream will be taken
/// (the client opens its next one on the proxy that replaces this one), and the connection closes
/// once the streams in flight have had `grace` to finish.
final class HTTP2DrainHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    static let grace: TimeAmount = .seconds(2)

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ProxyDrain {
            let goAway = HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil))
            context.writeAndFlush(wrapOutboundOut(goAway), promise: nil)
            let channel = context.channel
            context.eventLoop.scheduleTask(in: Self.grace) { channel.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }
}

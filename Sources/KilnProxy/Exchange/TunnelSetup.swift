import NIOCore
import NIOHTTP1

/// After a backend switched protocols (websockets), the two connections are glued: the HTTP
/// handlers leave both pipelines and bytes pass through, with backpressure in both directions.
enum TunnelSetup {
    /// Runs on the shared event loop of both channels.
    static func join(client: any Channel, upstream: any Channel, upstreamHandler: UpstreamHandler) throws {
        do {
            let clientPipeline = client.pipeline.syncOperations
            let upstreamPipeline = upstream.pipeline.syncOperations
            upstreamHandler.delegate = nil
            upstreamHandler.onClose = nil
            let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
            try removeIfPresent(clientPipeline, ProxyHandler.self)
            try removeIfPresent(clientPipeline, NIOHTTPResponseHeadersValidator.self)
            try removeIfPresent(clientPipeline, ConnectionTimeoutHandler.self)
            try removeIfPresent(clientPipeline, HTTPResponseEncoder.self)
            try removeIfPresent(clientPipeline, ByteToMessageHandler<HTTPRequestDecoder>.self)
            try clientPipeline.addHandler(clientGlue)
            try removeIfPresent(upstreamPipeline, UpstreamHandler.self)
            try removeIfPresent(upstreamPipeline, IdleStateHandler.self)
            try removeIfPresent(upstreamPipeline, HTTPRequestEncoder.self)
            try removeIfPresent(upstreamPipeline, NIOHTTPRequestHeadersValidator.self)
            try removeIfPresent(upstreamPipeline, ByteToMessageHandler<HTTPResponseDecoder>.self)
            try upstreamPipeline.addHandler(upstreamGlue)
        }
    }

    private static func removeIfPresent<Handler: RemovableChannelHandler>(
        _ pipeline: ChannelPipeline.SynchronousOperations, _ type: Handler.Type
    ) throws {
        if let handler = try? pipeline.handler(type: type) {
            pipeline.removeHandler(handler, promise: nil)
        }
    }
}

/// One side of a byte tunnel between two channels on the same event loop.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The partner may have held a read while this side was not yet in its pipeline.
        partner?.partnerBecameWritable()
        context.read()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerClose() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }

    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }

    func channelInactive(context: ChannelHandlerContext) { partner?.partnerClose() }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

import KilnChannels
import NIOCore
import NIOHTTP1

/// After a backend switched protocols (websockets), the two connections are glued: the HTTP
/// handlers leave both pipelines and bytes pass through, with backpressure in both directions.
enum TunnelSetup {
    /// Runs on the shared event loop of both channels. A tunnel with no byte either way for
    /// `idle` is closed (both ends: each glue closes its partner).
    static func join(client: any Channel, upstream: any Channel, upstreamHandler: UpstreamHandler, idle: TimeAmount) throws {
        do {
            let clientPipeline = client.pipeline.syncOperations
            let upstreamPipeline = upstream.pipeline.syncOperations
            upstreamHandler.delegate = nil
            upstreamHandler.onClose = nil
            let (clientGlue, upstreamGlue) = ByteTunnelHandler.matchedPair()
            try removeIfPresent(clientPipeline, ProxyHandler.self)
            try removeIfPresent(clientPipeline, NIOHTTPResponseHeadersValidator.self)
            try removeIfPresent(clientPipeline, ConnectionTimeoutHandler.self)
            try removeIfPresent(clientPipeline, HTTPResponseEncoder.self)
            try removeIfPresent(clientPipeline, ByteToMessageHandler<HTTPRequestDecoder>.self)
            try clientPipeline.addHandlers([IdleStateHandler(allTimeout: idle), CloseOnIdleHandler(), clientGlue])
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

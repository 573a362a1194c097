import NIOCore

/// The last handler of a pooled backend connection, whichever codec the connection speaks.
protocol PooledUpstreamHandler: ChannelHandler, AnyObject {
    /// Adds this handler to a new connection's pipeline with what goes below it (a codec, an
    /// idle timer); an idle connection is closed after `idleTimeout` in the pool.
    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, idleTimeout: TimeAmount) throws
    /// Called once when the connection closes; the pool uses it to forget an idle connection.
    var onClose: (() -> Void)? { get set }
    /// The connection goes back to the pool: no exchange hears from it now, and it reads again.
    func detach()
}

/// A keep-alive HTTP/1.1 connection to one backend, owned by one event loop's pool.
final class UpstreamConnection<Handler: PooledUpstreamHandler> {
    let channel: any Channel
    let handler: Handler
    let backend: BackendAddress

    init(channel: any Channel, handler: Handler, backend: BackendAddress) {
        self.channel = channel
        self.handler = handler
        self.backend = backend
    }

    var isUsable: Bool { channel.isActive }

    func close() {
        handler.detach()
        channel.close(promise: nil)
    }
}

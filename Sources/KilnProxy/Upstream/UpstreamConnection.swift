import NIOCore

/// The last handler of a pooled backend connection, whichever codec the connection speaks.
protocol PooledUpstreamHandler: ChannelHandler, AnyObject {
    init()
    /// Adds what goes below this handler on a new connection (a codec, or nothing).
    static func addCodec(to pipeline: ChannelPipeline.SynchronousOperations) throws
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

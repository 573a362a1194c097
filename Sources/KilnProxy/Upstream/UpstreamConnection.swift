import NIOCore

/// A keep-alive HTTP/1.1 connection to one backend, owned by one event loop's pool.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let backend: BackendAddress

    init(channel: any Channel, handler: UpstreamHandler, backend: BackendAddress) {
        self.channel = channel
        self.handler = handler
        self.backend = backend
    }

    var isUsable: Bool { channel.isActive }

    func close() {
        handler.delegate = nil
        channel.close(promise: nil)
    }
}

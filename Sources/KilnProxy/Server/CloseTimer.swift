import NIOCore

/// Closes a connection when its time is up, unless cancelled first: what the TLS handshake and
/// send timeouts share.
struct CloseTimer {
    private var scheduled: Scheduled<Void>?

    var isRunning: Bool { scheduled != nil }

    mutating func start(after timeout: TimeAmount, closing context: ChannelHandlerContext) {
        let channel = context.channel
        scheduled = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    mutating func cancel() {
        scheduled?.cancel()
        scheduled = nil
    }
}

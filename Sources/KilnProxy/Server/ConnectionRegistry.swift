import NIOConcurrencyHelpers
import NIOCore

/// The proxy's open client connections, so a proxy that stops can drain them: each is told
/// (`ProxyDrain`) to finish the exchange it is in and close, an idle one after a short grace in
/// which a request already on its way is still answered. Taken once per connection, not per
/// request.
final class ConnectionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        channels.withLockedValue { $0[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.channels.withLockedValue { $0.removeValue(forKey: key) }
        }
    }

    var count: Int { channels.withLockedValue { $0.count } }

    /// Tells every open connection to drain.
    func drain() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ProxyDrain())
        }
    }

    /// Closes what is still open.
    func closeAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

/// The proxy stops: finish the current exchange with `Connection: close`, and close when idle.
struct ProxyDrain: Sendable {
    /// How long an idle connection stays open once draining: a request already sent is answered.
    static let idleGrace: TimeAmount = .seconds(1)
}

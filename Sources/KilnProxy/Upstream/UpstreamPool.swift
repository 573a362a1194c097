import KilnCore
import KilnSocketOwners
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to backends, one pool per event loop and codec: an exchange takes a
/// connection on its own loop, so no lock and no thread hop is ever needed on the request path.
final class UpstreamPool<Handler: PooledUpstreamHandler>: @unchecked Sendable {
    // Sendable only so each loop's connection initialisers can carry it: every use is on its own
    // event loop, which `assertInEventLoop` checks.
    let eventLoop: any EventLoop
    let connectTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let maxIdlePerBackend: Int
    /// Asks the kernel whose listener a new connection reached (the loop's own netlink socket).
    let socketOwners: SocketOwnerLookup
    private var idle: [BackendAddress: [UpstreamConnection<Handler>]] = [:]
    private var addresses: [BackendAddress: SocketAddress] = [:]

    init(
        eventLoop: any EventLoop, connectTimeout: TimeAmount, socketOwners: SocketOwnerLookup, idleTimeout: TimeAmount = .seconds(60),
        maxIdlePerBackend: Int = 256
    ) {
        self.eventLoop = eventLoop
        self.socketOwners = socketOwners
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.maxIdlePerBackend = maxIdlePerBackend
    }

    /// A connection to `backend`: an idle one (`reused`), or a new one whose listener must be
    /// `owner`'s (`owner` is asked only then).
    func acquire(
        _ backend: BackendAddress, fresh: Bool, owner: () -> BackendOwner
    ) -> EventLoopFuture<(UpstreamConnection<Handler>, reused: Bool)>.Isolated {
        eventLoop.assertInEventLoop()
        if !fresh, let connection = takeIdle(backend) {
            return eventLoop.assumeIsolated().makeSucceededFuture((connection, reused: true)).assumeIsolated()
        }
        return connect(backend, owner: owner()).map { ($0, reused: false) }
    }

    /// An idle connection to `backend`, if one is open: taken without a future, as most are.
    func takeIdle(_ backend: BackendAddress) -> UpstreamConnection<Handler>? {
        eventLoop.assertInEventLoop()
        // Popped in place: copying the array out of the dictionary would copy every element.
        while let connection = idle[backend]?.popLast() {
            if connection.isUsable { return connection }
        }
        return nil
    }

    /// Returns a connection whose exchange finished cleanly; it waits here for the next one.
    func release(_ connection: UpstreamConnection<Handler>) {
        eventLoop.assertInEventLoop()
        connection.handler.detach()
        guard connection.isUsable else { return }
        guard (idle[connection.backend]?.count ?? 0) < maxIdlePerBackend else {
            connection.close()
            return
        }
        idle[connection.backend, default: []].append(connection)
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    private func forget(_ connection: UpstreamConnection<Handler>) {
        guard var connections = idle[connection.backend] else { return }
        connections.removeAll { $0 === connection }
        idle[connection.backend] = connections.isEmpty ? nil : connections
    }

    /// A new connection to `backend`. Before anything is sent, the kernel is asked whose socket
    /// took it: a loopback listener that is not `owner`'s (a port squatted while the tool's
    /// server restarts) fails the connect, so the exchange treats it as refused.
    func connect(_ backend: BackendAddress, owner: BackendOwner) -> EventLoopFuture<UpstreamConnection<Handler>>.Isolated {
        let idleTimeout = idleTimeout
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Handler.addHandlers(to: channel.pipeline.syncOperations, idleTimeout: idleTimeout)
                }
            }
        let connected: EventLoopFuture<any Channel>
        if let address = resolvedAddress(backend) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: backend.host, port: backend.port)
        }
        return connected.assumeIsolated().flatMapThrowing { [self] channel in
            guard socketOwners.admits(channel, expected: owner) else {
                channel.close(promise: nil)
                throw BackendOwnerMismatch(backend: backend)
            }
            let handler = try channel.pipeline.syncOperations.handler(type: Handler.self)
            let connection = UpstreamConnection(channel: channel, handler: handler, backend: backend)
            handler.onClose = { [weak self, weak connection] in
                if let connection { self?.forget(connection) }
            }
            return connection
        }
    }

    /// Numeric addresses are parsed once; names go through the resolver on each new connection.
    private func resolvedAddress(_ backend: BackendAddress) -> SocketAddress? {
        if let known = addresses[backend] { return known }
        guard let address = try? SocketAddress(ipAddress: backend.host, port: backend.port) else {
            if backend.host == "localhost", let loopback = try? SocketAddress(ipAddress: "127.0.0.1", port: backend.port) {
                addresses[backend] = loopback
                return loopback
            }
            return nil
        }
        addresses[backend] = address
        return address
    }
}

import KilnChannels
import KilnCore
import KilnSocketOwners
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The stable address of a continuous job's port: listens there and relays each connection, as
/// bytes, to one of the job's replicas (each listens on its own loopback port, given as $PORT),
/// in turn. Replicas come and go and restart on new processes; the address stays. A replica's
/// port is trusted only while the job's own user listens there: a connection that reached
/// another user's listener (a port squatted while the replica restarts) is closed unrelayed.
public final class PortRelay: Sendable {
    public let address: HostPort
    private let channel: any Channel
    private let backends: Backends

    /// The replicas' ports, taken in turn.
    final class Backends: Sendable {
        private let state: Mutex<(ports: [Int], next: Int)>

        init(_ ports: [Int]) { state = Mutex((ports, 0)) }

        func update(_ ports: [Int]) { state.withLock { $0.ports = ports } }

        func next() -> Int? {
            state.withLock { state in
                guard !state.ports.isEmpty else { return nil }
                defer { state.next &+= 1 }
                return state.ports[state.next % state.ports.count]
            }
        }
    }

    /// Binds `address` and relays to `ports`, whose listeners must be `owner`'s.
    public init(
        address: HostPort, ports: [Int], owner: BackendOwner, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(KilnError) {
        self.address = address
        let backends = Backends(ports)
        self.backends = backends
        let socketOwners = SocketOwnerLookup()
        do {
            // Reads start once the initializer has joined the two connections.
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { inbound in
                    guard let port = backends.next() else {
                        return inbound.eventLoop.makeFailedFuture(ChannelError.connectPending)
                    }
                    return ClientBootstrap(group: inbound.eventLoop).connectTimeout(.seconds(2))
                        .channelOption(.allowRemoteHalfClosure, value: true)
                        .connect(host: "127.0.0.1", port: port)
                        .flatMap { outbound in
                            guard socketOwners.admits(outbound, expected: owner) else {
                                outbound.close(promise: nil)
                                return inbound.eventLoop.makeFailedFuture(ForeignReplicaListener(port: port))
                            }
                            let (first, second) = ByteTunnelHandler.matchedPair()
                            do {
                                try inbound.pipeline.syncOperations.addHandler(first)
                                try outbound.pipeline.syncOperations.addHandler(second)
                            } catch {
                                outbound.close(promise: nil)
                                return inbound.eventLoop.makeFailedFuture(error)
                            }
                            return inbound.eventLoop.makeSucceededVoidFuture()
                        }
                }
                .bind(host: address.host, port: address.port).get()
        } catch {
            throw KilnError(
                .unavailable, "cannot listen at \(address) for the job's port: \(error)", context: ["address": address.description])
        }
    }

    /// A replica's port reached a listener that is not the job's: the connection is not relayed.
    struct ForeignReplicaListener: Error {
        let port: Int
    }

    /// The replicas' ports now.
    public func update(ports: [Int]) { backends.update(ports) }

    public func close() async { try? await channel.close() }
}

import KilnCore
import KilnSocketOwners
import KilnTesting
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real sockets of two users (the tests run as root; the other user is `nobody`, through
/// setpriv), asked through sock_diag netlink and through the /proc fallback alike.
@Suite struct SocketOwnerLookupTests {
    static let nobody: UInt32 = 65534
    static let sources = [true, false]

    func endpoint(_ host: String, _ port: Int) throws -> LoopbackEndpoint {
        try #require(LoopbackEndpoint(HostPort(host: host, port: port)))
    }

    @Test(arguments: sources) func aListenerOfAnotherUserIsTheirs(netlink: Bool) async throws {
        let listener = try ForeignListener(uid: Self.nobody)
        defer { listener.stop() }
        try await listener.waitUntilListening()
        let lookup = SocketOwnerLookup(netlink: netlink)
        #expect(lookup.listenerOwner(of: try endpoint("127.0.0.1", listener.port)) == .owned(uid: Self.nobody))
        // Only 127.0.0.1 is bound: another loopback address of the port has no listener.
        #expect(lookup.listenerOwner(of: try endpoint("127.0.0.2", listener.port)) == .none)
    }

    @Test(arguments: sources) func aWildcardListenerTakesEveryLoopbackAddress(netlink: Bool) async throws {
        let listener = try ForeignListener(uid: Self.nobody, host: "0.0.0.0")
        defer { listener.stop() }
        try await listener.waitUntilListening()
        let lookup = SocketOwnerLookup(netlink: netlink)
        #expect(lookup.listenerOwner(of: try endpoint("127.0.0.9", listener.port)) == .owned(uid: Self.nobody))
    }

    @Test(arguments: sources) func anIPv6ListenerIsFoundAtTheIPv6Loopback(netlink: Bool) async throws {
        let listener = try ForeignListener(uid: Self.nobody, host: "::1")
        defer { listener.stop() }
        try await listener.waitUntilListening()
        let lookup = SocketOwnerLookup(netlink: netlink)
        #expect(lookup.listenerOwner(of: try endpoint("::1", listener.port)) == .owned(uid: Self.nobody))
        #expect(lookup.listenerOwner(of: try endpoint("127.0.0.1", listener.port)) == .none)
    }

    @Test(arguments: sources) func theTestProcesssOwnListenerIsRoots(netlink: Bool) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        let lookup = SocketOwnerLookup(netlink: netlink)
        #expect(lookup.listenerOwner(of: try endpoint("127.0.0.1", port)) == .owned(uid: getuid()))
        try await channel.close()
        #expect(lookup.listenerOwner(of: try endpoint("127.0.0.1", port)) == .none)
    }

    @Test(arguments: sources) func thePeerOfAConnectionIsItsListenersUser(netlink: Bool) async throws {
        let listener = try ForeignListener(uid: Self.nobody)
        defer { listener.stop() }
        try await listener.waitUntilListening()
        let ours = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let lookup = SocketOwnerLookup(netlink: netlink)
        for (port, owner) in [(listener.port, Self.nobody), (try #require(ours.localAddress?.port), getuid())] {
            let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            let local = try #require(client.localAddress.flatMap(SocketEndpoint.init))
            let remote = try #require(client.remoteAddress.flatMap(SocketEndpoint.init))
            #expect(lookup.peerOwner(local: local, remote: remote) == .owned(uid: owner))
            // The same ends the other way round name our own socket, which is root's.
            #expect(lookup.peerOwner(local: remote, remote: local) == .owned(uid: getuid()))
            try await client.close()
        }
        try await ours.close()
    }

    @Test(arguments: sources) func aNewConnectionIsAdmittedByItsListenersOwnerNotItsAcceptors(netlink: Bool) async throws {
        // Bound by root, accepted by `nobody`: the accepted socket becomes nobody's.
        let listener = try ForeignListener(uid: 0, acceptingAs: Self.nobody)
        defer { listener.stop() }
        try await listener.waitUntilListening()
        let lookup = SocketOwnerLookup(netlink: netlink)
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: listener.port).get()
        var accepted = false
        for _ in 0..<200 where !accepted {
            accepted = lookup.peerOwner(of: client) == .owned(uid: Self.nobody)
            if !accepted { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(accepted)
        #expect(lookup.admits(client, expected: .uid(0)))
        #expect(!lookup.admits(client, expected: .uid(Self.nobody)))
        #expect(lookup.admits(client, expected: .anyone))
        try await client.close()
    }
}

import KilnCore
import KilnSocketOwners
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Ports for tools' servers on the loopback interface, and the wait until a server listens.
public enum PortAllocator {
    /// A port nothing listens on now (the kernel's pick for port 0).
    public static func freeLoopbackPort() throws(KilnError) -> Int {
        try freePort(on: "127.0.0.1")
    }

    /// A port nothing listens on now at `address` (IPv4), which must be this host's: a grid
    /// replica's server listens on its execution host's address, where the proxy reaches it.
    public static func freePort(on address: String) throws(KilnError) -> Int {
        var parsed = in_addr()
        guard inet_pton(AF_INET, address, &parsed) == 1 else {
            throw KilnError(.invalidAddress, "'\(address)' is not an IPv4 address of this host", context: ["address": address])
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw KilnError(.internalError, "socket() failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = parsed
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw KilnError(.internalError, "cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something listens at 127.0.0.1:`port` now: a replica's port while its server is
    /// down should be free, and one that is not (squatted by another user, or a stray process)
    /// is given up for another.
    public static func isListenedOn(_ port: Int) -> Bool {
        guard let endpoint = LoopbackEndpoint(HostPort(host: "127.0.0.1", port: port)) else { return false }
        switch socketOwners.listenerOwner(of: endpoint) {
        case .owned: return true
        case .none, .unknown: return false
        }
    }

    private static let socketOwners = SocketOwnerLookup()

    /// Polls with TCP connects until `backend` accepts one, or `timeout` passes.
    public static func waitUntilListening(_ backend: HostPort, timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if Task.isCancelled { return false }
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(200))
                .connect(host: backend.host, port: backend.port).get()
            {
                try? await channel.close()
                return true
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

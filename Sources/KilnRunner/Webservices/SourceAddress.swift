import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// This host's address as `peer` sees it: the source address the kernel picks for a route to it
/// (a UDP "connect" sends nothing). On a grid's execution host that is the address the control
/// plane and the proxy reach it at, whatever its name resolves to.
public enum SourceAddress {
    public static func toward(_ peer: HostPort) throws(KilnError) -> String {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(peer.host, String(peer.port), &hints, &found) == 0, let first = found else {
            throw KilnError(.invalidAddress, "cannot resolve \(peer.host) to an IPv4 address", context: ["host": peer.host])
        }
        defer { freeaddrinfo(found) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw KilnError(.internalError, "socket() failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw KilnError(.unavailable, "no route from this host to \(peer): \(String(cString: strerror(errno)))", context: ["peer": "\(peer)"])
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard named else { throw KilnError(.internalError, "getsockname() failed: \(String(cString: strerror(errno)))") }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &local.sin_addr, &text, socklen_t(text.count)) != nil else {
            throw KilnError(.internalError, "inet_ntop() failed")
        }
        return String(cString: text)
    }

    /// The IPv4 addresses `name` resolves to (a grid's execution host's name, as the grid says it).
    public static func addresses(of name: String) -> Set<String> {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &found) == 0 else { return [] }
        defer { freeaddrinfo(found) }
        var addresses = Set<String>()
        var entry = found
        while let current = entry {
            if let address = current.pointee.ai_addr.flatMap(text(of:)) { addresses.insert(address) }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    /// This machine's own IPv4 addresses (every interface's), as this process's network sees them.
    public static func localAddresses() -> Set<String> {
        var interfaces: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&interfaces) == 0 else { return [] }
        defer { freeifaddrs(interfaces) }
        var addresses = Set<String>()
        var entry = interfaces
        while let current = entry {
            if let address = current.pointee.ifa_addr.flatMap(text(of:)) { addresses.insert(address) }
            entry = current.pointee.ifa_next
        }
        return addresses
    }

    /// Whether `address` is one of `host`'s (a grid's execution host, by the name the grid says):
    /// an address its name resolves to, or, when that name is this machine's own, any address of
    /// this machine (its runner reaches the control plane from whichever interface faces it).
    public static func belongs(_ address: String, to host: String) -> Bool {
        let named = addresses(of: host)
        if named.contains(address) { return true }
        let local = localAddresses()
        return !named.isDisjoint(with: local) && local.contains(address)
    }

    /// An IPv4 socket address as text ("10.200.0.11"); nil for another family.
    static func text(of address: UnsafeMutablePointer<sockaddr>) -> String? {
        guard address.pointee.sa_family == sa_family_t(AF_INET) else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
            var raw = inet.pointee.sin_addr
            _ = inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
        }
        return String(cString: text)
    }
}

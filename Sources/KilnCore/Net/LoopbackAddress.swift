/// An address of this host's loopback interface: `127.0.0.0/8` or `::1`. The only addresses a
/// tool's route may name, since only there can the platform tell who listens.
public enum LoopbackAddress: Sendable, Hashable, CustomStringConvertible {
    /// `127.b.c.d`, its four bytes in order.
    case ipv4(UInt8, UInt8, UInt8, UInt8)
    /// `::1`.
    case ipv6

    /// The loopback address `host` names: a dotted quad in 127.0.0.0/8 (each part in decimal,
    /// without leading zeros, as inet_pton reads it), `::1` (with or without brackets), or
    /// `localhost` (127.0.0.1, as the proxy connects to it). Nil for anything else, names included:
    /// what a name resolves to can change after it was checked.
    public init?(host: String) {
        var host = Substring(host)
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host.lowercased() == "localhost" {
            self = .ipv4(127, 0, 0, 1)
            return
        }
        if host == "::1" {
            self = .ipv6
            return
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4)
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part.utf8.count == 1 || part.utf8.first != 0x30, let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        guard bytes[0] == 127 else { return nil }
        self = .ipv4(bytes[0], bytes[1], bytes[2], bytes[3])
    }

    public var description: String {
        switch self {
        case .ipv4(let a, let b, let c, let d): "\(a).\(b).\(c).\(d)"
        case .ipv6: "::1"
        }
    }
}

/// A TCP port on the loopback interface.
public struct LoopbackEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: LoopbackAddress
    public var port: Int

    public init(address: LoopbackAddress, port: Int) {
        self.address = address
        self.port = port
    }

    /// `backend` when it is on the loopback interface with a port other than 0.
    public init?(_ backend: HostPort) {
        guard let address = LoopbackAddress(host: backend.host), (1...65535).contains(backend.port) else { return nil }
        self.init(address: address, port: backend.port)
    }

    public var description: String { HostPort(host: address.description, port: port).description }
}

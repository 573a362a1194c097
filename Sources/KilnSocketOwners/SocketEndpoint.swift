import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// One end of a TCP socket as the kernel names it: a family, an address (4 or 16 bytes, network
/// order) and a port. Held inline: building one allocates nothing.
public struct SocketEndpoint: Sendable, Hashable {
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    public var family: Family
    /// The address's bytes as they lie in `in_addr` / `in6_addr` (an IPv4 address in the first 4).
    var address: (UInt64, UInt64)
    public var port: UInt16

    public init(_ address: sockaddr_in) {
        family = .ipv4
        var raw: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &raw) { bytes in
            withUnsafeBytes(of: address.sin_addr) { bytes.copyMemory(from: $0) }
        }
        self.address = raw
        port = UInt16(bigEndian: address.sin_port)
    }

    public init(_ address: sockaddr_in6) {
        family = .ipv6
        var raw: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &raw) { bytes in
            withUnsafeBytes(of: address.sin6_addr) { bytes.copyMemory(from: $0) }
        }
        self.address = raw
        port = UInt16(bigEndian: address.sin6_port)
    }

    public init(_ endpoint: LoopbackEndpoint) {
        var raw: (UInt64, UInt64) = (0, 0)
        switch endpoint.address {
        case .ipv4(let a, let b, let c, let d):
            family = .ipv4
            withUnsafeMutableBytes(of: &raw) { bytes in
                bytes[0] = a
                bytes[1] = b
                bytes[2] = c
                bytes[3] = d
            }
        case .ipv6:
            family = .ipv6
            withUnsafeMutableBytes(of: &raw) { $0[15] = 1 }
        }
        address = raw
        // LoopbackEndpoint keeps its port in 1...65535.
        port = UInt16(clamping: endpoint.port)
    }

    /// The wildcard endpoint (any address, port 0) of `family`: asks for a listener.
    init(family: Family) {
        self.family = family
        address = (0, 0)
        port = 0
    }

    /// On the loopback interface: 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104.
    public var isLoopback: Bool {
        withUnsafeBytes(of: address) { bytes in
            switch family {
            case .ipv4:
                return bytes[0] == 127
            case .ipv6:
                let zeroPrefix = bytes[0..<10].allSatisfy { $0 == 0 }
                if zeroPrefix, bytes[10] == 0xFF, bytes[11] == 0xFF { return bytes[12] == 127 }
                return zeroPrefix && bytes[10] == 0 && bytes[11] == 0 && bytes[12..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
            }
        }
    }

    var familyConstant: Int32 {
        switch family {
        case .ipv4: AF_INET
        case .ipv6: AF_INET6
        }
    }

    public static func == (lhs: SocketEndpoint, rhs: SocketEndpoint) -> Bool {
        lhs.family == rhs.family && lhs.address == rhs.address && lhs.port == rhs.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(address.0)
        hasher.combine(address.1)
        hasher.combine(port)
    }
}

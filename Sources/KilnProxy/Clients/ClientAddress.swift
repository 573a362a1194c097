import NIOCore

/// A client's IP address as a key: IPv4 in the low bits (with a marker), IPv6 whole. Made once
/// per connection from the TCP peer (never from X-Forwarded-For, which the client writes).
struct ClientAddress: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    init?(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4):
            high = 0xFFFF_FFFF_FFFF_FFFF
            low = UInt64(UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            var address = v6.address.sin6_addr
            let (high, low) = withUnsafeBytes(of: &address) { bytes in
                (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
            self.high = high
            self.low = low
        case .unixDomainSocket, nil:
            return nil
        }
    }

    /// Spreads addresses over the table's shards (a multiplicative hash of both halves).
    var shard: Int { Int(truncatingIfNeeded: ((high ^ low) &* 0x9E37_79B9_7F4A_7C15) >> 58) }
}

/// The IPv4 block from which replicas with a network of their own take their addresses. Each
/// replica gets a /31 pair, the host's end and the replica's, so the host routes between
/// replicas (where it can refuse it) rather than bridging them: a /16 holds 32,768 replicas.
///
/// Only private blocks (RFC 1918, and 100.64.0.0/10 of RFC 6598) are accepted: the host answers
/// for these addresses, and an operator's typo must not take a public block off the Internet.
public struct ReplicaSubnet: Sendable, Hashable, CustomStringConvertible {
    /// 10.201.0.0/16: beside the grid's test namespaces (10.200.0.0/24), in no common default.
    public static let standard = ReplicaSubnet(checkedBase: 10 << 24 | 201 << 16, prefixLength: 16)

    /// The first address, host bits zero.
    public let base: UInt32
    public let prefixLength: Int

    /// At least one pair, and no more than a /16's worth (a slot number fits a link's name).
    public static let prefixLengths = 16...31

    static let privateBlocks: [(base: UInt32, prefixLength: Int)] = [
        (10 << 24, 8), (172 << 24 | 16 << 16, 12), (192 << 24 | 168 << 16, 16), (100 << 24 | 64 << 16, 10),
    ]

    private init(checkedBase base: UInt32, prefixLength: Int) {
        self.base = base
        self.prefixLength = prefixLength
    }

    /// `A.B.C.D/N`, a private block with its host bits zero and N in `prefixLengths`.
    public init(parsing text: String) throws(KilnError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        func refuse(_ why: String) -> KilnError {
            KilnError(.invalidAddress, "'\(text)' is not a subnet for replicas: \(why)", context: ["subnet": text])
        }
        guard parts.count == 2, let address = Self.address(parts[0]) else {
            throw refuse("write it as an IPv4 block, A.B.C.D/N")
        }
        guard parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), (1...2).contains(parts[1].utf8.count),
            let length = Int(parts[1]), Self.prefixLengths.contains(length)
        else {
            throw refuse("its prefix length must be \(Self.prefixLengths.lowerBound) to \(Self.prefixLengths.upperBound)")
        }
        guard address & ~Self.mask(length) == 0 else {
            throw refuse("its host bits are not zero (did you mean \(Self.dotted(address & Self.mask(length)))/\(length)?)")
        }
        guard Self.privateBlocks.contains(where: { length >= $0.prefixLength && address & Self.mask($0.prefixLength) == $0.base }) else {
            throw refuse("it is not a private block (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)")
        }
        self.init(checkedBase: address, prefixLength: length)
    }

    /// How many replicas the block holds: one /31 pair each.
    public var slotCount: Int { 1 << (31 - prefixLength) }

    /// The host's end of `slot`'s pair; nil outside the block.
    public func hostAddress(slot: Int) -> String? {
        guard (0..<slotCount).contains(slot) else { return nil }
        return Self.dotted(base + UInt32(slot) * 2)
    }

    /// The replica's end of `slot`'s pair; nil outside the block.
    public func replicaAddress(slot: Int) -> String? {
        guard (0..<slotCount).contains(slot) else { return nil }
        return Self.dotted(base + UInt32(slot) * 2 + 1)
    }

    /// The slot whose replica's end `address` is; nil for any other address.
    public func slot(ofReplicaAddress address: String) -> Int? {
        guard let value = Self.address(Substring(address)), value & Self.mask(prefixLength) == base, value & 1 == 1 else { return nil }
        return Int((value - base) / 2)
    }

    public var description: String { "\(Self.dotted(base))/\(prefixLength)" }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    static func dotted(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    /// A dotted quad, each part decimal without leading zeros (as inet_pton reads it).
    static func address(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part.utf8.count == 1 || part.utf8.first != 0x30, let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}

import NIOConcurrencyHelpers
import NIOCore

/// Every client address's requests and connections, in shards each with its lock: a request
/// takes one shard's lock for a few nanoseconds (a client's connections may be on any event loop,
/// so the count is the proxy's, as nginx's `limit_req` zone is). The table is bounded: addresses
/// with no connection and a full bucket are forgotten first, then the least recently seen.
final class ClientLimits: Sendable {
    struct Entry: Sendable {
        var bucket: TokenBucket
        var connections: Int
        var lastSeen: NIODeadline
    }

    static let shardCount = 64
    /// Addresses a shard remembers (the whole table: 64 times this).
    static let addressesPerShard = 2048

    let policy: ClientLimitPolicy
    private let shards: [NIOLockedValueBox<[ClientAddress: Entry]>]

    init(policy: ClientLimitPolicy) {
        self.policy = policy
        shards = (0..<Self.shardCount).map { _ in NIOLockedValueBox([:]) }
    }

    var isLimitingRequests: Bool { policy.requestsPerSecond > 0 }
    var isCappingConnections: Bool { policy.connectionsPerAddress > 0 }

    /// A connection from `address` opens: false when it already holds the most it may.
    func connectionOpened(_ address: ClientAddress, now: NIODeadline = .now()) -> Bool {
        guard isCappingConnections || isLimitingRequests else { return true }
        return shards[address.shard].withLockedValue { table in
            var entry = table[address] ?? Entry(bucket: TokenBucket(full: policy.burst, at: now), connections: 0, lastSeen: now)
            if isCappingConnections, entry.connections >= policy.connectionsPerAddress { return false }
            entry.connections += 1
            entry.lastSeen = now
            store(entry, for: address, in: &table, now: now)
            return true
        }
    }

    func connectionClosed(_ address: ClientAddress) {
        guard isCappingConnections || isLimitingRequests else { return }
        shards[address.shard].withLockedValue { table in
            guard var entry = table[address] else { return }
            entry.connections = max(0, entry.connections - 1)
            table[address] = entry
        }
    }

    /// A request from `address`: whether its bucket has a token.
    func admitsRequest(from address: ClientAddress, now: NIODeadline = .now()) -> Bool {
        guard isLimitingRequests else { return true }
        return shards[address.shard].withLockedValue { table in
            var entry = table[address] ?? Entry(bucket: TokenBucket(full: policy.burst, at: now), connections: 0, lastSeen: now)
            let admitted = entry.bucket.take(rate: policy.requestsPerSecond, capacity: policy.burst, now: now)
            entry.lastSeen = now
            store(entry, for: address, in: &table, now: now)
            return admitted
        }
    }

    /// How many addresses are remembered (tests).
    var rememberedAddresses: Int { shards.reduce(0) { $0 + $1.withLockedValue { $0.count } } }

    private func store(_ entry: Entry, for address: ClientAddress, in table: inout [ClientAddress: Entry], now: NIODeadline) {
        if table[address] == nil, table.count >= Self.addressesPerShard { evict(from: &table, now: now) }
        table[address] = entry
    }

    /// Makes room, for many new addresses at once so that a flood of them costs little each:
    /// every address that has no connection and a full bucket goes (it would start afresh the
    /// same); then, while more than half the shard is left, those without a connection seen
    /// longest ago; then, only if every one holds connections, the ones seen longest ago.
    private func evict(from table: inout [ClientAddress: Entry], now: NIODeadline) {
        let rate = policy.requestsPerSecond
        let burst = policy.burst
        for (address, var entry) in table where entry.connections == 0 && entry.bucket.isFull(rate: rate, capacity: burst, now: now) {
            table[address] = nil
        }
        let half = Self.addressesPerShard / 2
        guard table.count > half else { return }
        let idle = table.filter { $0.value.connections == 0 }.sorted { $0.value.lastSeen < $1.value.lastSeen }
        for (address, _) in idle.prefix(table.count - half) { table[address] = nil }
        guard table.count >= Self.addressesPerShard else { return }
        let oldest = table.sorted { $0.value.lastSeen < $1.value.lastSeen }
        for (address, _) in oldest.prefix(table.count - half) { table[address] = nil }
    }
}

/// Why a connection was refused at accept.
enum ClientLimitRefusal: Error {
    case tooManyConnections
}

import NIOCore
import Testing

@testable import KilnProxy

/// Per-address limits, with the time given: a burst, then the rate; connections capped; the table
/// bounded however many addresses come.
@Suite struct ClientLimitsTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func address(_ last: UInt8) -> ClientAddress {
        ClientAddress(try? SocketAddress(ipAddress: "10.0.0.\(last)", port: 1))!
    }

    @Test func aBurstThenTheRate() {
        let limits = ClientLimits(policy: ClientLimitPolicy(requestsPerSecond: 10, burst: 5))
        let client = address(1)
        for _ in 0..<5 { #expect(limits.admitsRequest(from: client, now: start)) }
        #expect(!limits.admitsRequest(from: client, now: start), "the burst is spent")
        #expect(!limits.admitsRequest(from: client, now: start + .milliseconds(99)))
        #expect(limits.admitsRequest(from: client, now: start + .milliseconds(100)), "one token per 100 ms at 10/s")
        #expect(!limits.admitsRequest(from: client, now: start + .milliseconds(100)))
        #expect(limits.admitsRequest(from: address(2), now: start), "another address has its own bucket")
        // A long pause refills the bucket to its size, no more.
        let later = start + .seconds(3600 * 24)
        for _ in 0..<5 { #expect(limits.admitsRequest(from: client, now: later)) }
        #expect(!limits.admitsRequest(from: client, now: later))
    }

    @Test func aSteadyClientAtTheRateIsNeverRefused() {
        let limits = ClientLimits(policy: ClientLimitPolicy(requestsPerSecond: 100, burst: 1))
        for tick in 0..<1000 {
            #expect(limits.admitsRequest(from: address(1), now: start + .milliseconds(Int64(tick) * 10)))
        }
    }

    @Test func connectionsAreCappedPerAddress() {
        let limits = ClientLimits(policy: ClientLimitPolicy(connectionsPerAddress: 2))
        #expect(limits.connectionOpened(address(1), now: start))
        #expect(limits.connectionOpened(address(1), now: start))
        #expect(!limits.connectionOpened(address(1), now: start))
        #expect(limits.connectionOpened(address(2), now: start))
        limits.connectionClosed(address(1))
        #expect(limits.connectionOpened(address(1), now: start))
    }

    @Test func offMeansOff() {
        let limits = ClientLimits(policy: ClientLimitPolicy(requestsPerSecond: 0, connectionsPerAddress: 0))
        for _ in 0..<1000 {
            #expect(limits.admitsRequest(from: address(1), now: start))
            #expect(limits.connectionOpened(address(1), now: start))
        }
        #expect(limits.rememberedAddresses == 0)
    }

    @Test func theTableStaysBoundedWhateverTheAddresses() throws {
        let limits = ClientLimits(policy: ClientLimitPolicy(requestsPerSecond: 1, burst: 1))
        for index in 0..<200_000 {
            let address = try #require(ClientAddress(try SocketAddress(ipAddress: "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)", port: 1)))
            _ = limits.admitsRequest(from: address, now: start)
        }
        #expect(limits.rememberedAddresses <= ClientLimits.shardCount * ClientLimits.addressesPerShard)
    }

    @Test func policiesOutOfRangeAreRefusedNamingTheFlag() {
        for policy in [
            ClientLimitPolicy(requestsPerSecond: -1), ClientLimitPolicy(burst: ClientLimitPolicy.largest + 1),
            ClientLimitPolicy(connectionsPerAddress: -5), ClientLimitPolicy(requestsPerSecond: 5, burst: 0),
        ] {
            #expect(throws: (any Error).self) { try policy.validate() }
        }
        #expect(throws: Never.self) { try ClientLimitPolicy().validate() }
    }
}

import NIOCore
import PropertyBased
import Testing

@testable import KilnProxy

/// Hostile heads through the fast path's parser: it never traps, always decides in bounded time
/// once a head is whole, forwards only heads the strict reference reads the same way (framing,
/// host, target), hands off or waits alike however the bytes were split, and what it forwards
/// reads back as the same request.
@Suite struct HTTP1RequestFuzzTests {
    static let heads = Generator<[UInt8], Shrink.None<[UInt8]>> { rng in HostileHeads.head(&rng) }
    let allocator = ByteBufferAllocator()
    static let executions = 100_000

    @Test func theFastPathForwardsOnlyWhatTheStrictReadingReadsAlike() async {
        var executions = 0
        var taken = 0
        var slowest = Duration.zero
        let clock = ContinuousClock()
        await propertyCheck(count: Self.executions, input: Self.heads) { bytes in
            executions += 1
            let start = clock.now
            let parsed = HTTP1Request.parse(ByteBuffer(bytes: bytes), maxHeadBytes: 8192, allocator: allocator)
            slowest = max(slowest, clock.now - start)
            let reference = StrictRequestHead(bytes)
            let label = String(decoding: bytes, as: UTF8.self).debugDescription
            switch parsed {
            case .incomplete:
                // A whole head is always decided: waiting on one would hold the connection.
                #expect(StrictRequestHead.headEnd(bytes) == nil, "waits on \(label)")
            case .general:
                break
            case .request(var request):
                taken += 1
                guard let reference else {
                    Issue.record("taken, but the strict reading refuses \(label)")
                    return
                }
                #expect(request.head.readableBytes == reference.headLength, "\(label)")
                #expect(request.contentLength == reference.contentLength, "\(label)")
                #expect(request.hostString == reference.host, "\(label)")
                #expect(request.targetString == reference.target, "\(label)")
                #expect(request.isKeepAlive == !reference.closes, "\(label)")
                // Split anywhere before its end, the head waits for the rest.
                for _ in 0..<3 {
                    let cut = Int.random(in: 0..<reference.headLength)
                    let prefix = HTTP1Request.parse(ByteBuffer(bytes: bytes[0..<cut]), maxHeadBytes: 8192, allocator: allocator)
                    #expect(prefix == .incomplete, "cut at \(cut): \(label)")
                }
                // The head as forwarded is the same request to a strict backend.
                request.finishForwarded(clientAddress: "10.0.0.1", scheme: "http")
                let forwarded = Array(request.forwarded.readableBytesView)
                let again = StrictRequestHead(forwarded)
                #expect(again?.headLength == forwarded.count, "forwarded \(String(decoding: forwarded, as: UTF8.self).debugDescription)")
                #expect(again?.contentLength == reference.contentLength && again?.target == reference.target && again?.host == reference.host)
            }
        }
        print("fuzz: request heads: \(executions) executions, \(taken) taken by the fast path, slowest \(slowest)")
        #expect(executions == Self.executions)
        #expect(slowest < .milliseconds(100), "a head took \(slowest)")
    }
}

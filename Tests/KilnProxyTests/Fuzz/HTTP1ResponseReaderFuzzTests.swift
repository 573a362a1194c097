import NIOCore
import PropertyBased
import Testing

@testable import KilnProxy

/// Hostile responses through the fast path's response reader: it never traps, reads each in
/// bounded time, gives the same events however the bytes were split into reads, and a response
/// made plainly comes out with the body that was meant.
@Suite struct HTTP1ResponseReaderFuzzTests {
    static let responses = Generator<HostileResponses.Response, Shrink.None<HostileResponses.Response>> { rng in
        HostileResponses.response(&rng)
    }
    static let executions = 10_000

    /// What a reading gave: heads, the body's bytes (however sliced), ends, and where it failed.
    enum Item: Equatable {
        case head(HTTP1Response)
        case body([UInt8])
        case end(keepAlive: Bool)
        case failed
    }

    static func read(_ pieces: [ArraySlice<UInt8>]) -> [Item] {
        let allocator = ByteBufferAllocator()
        var reader = HTTP1ResponseReader()
        reader.expectResponse(requestWasHEAD: false, clientKeepAlive: true)
        var items: [Item] = []
        func add(_ event: HTTP1ResponseReader.Event) {
            switch event {
            case .head(let head): items.append(.head(head))
            case .body(let buffer):
                if case .body(let earlier) = items.last {
                    items[items.count - 1] = .body(earlier + buffer.readableBytesView)
                } else {
                    items.append(.body(Array(buffer.readableBytesView)))
                }
            case .end(let keepAlive): items.append(.end(keepAlive: keepAlive))
            }
        }
        for piece in pieces {
            var buffer = ByteBuffer(bytes: piece)
            do {
                while let event = try reader.next(&buffer, allocator: allocator) { add(event) }
            } catch {
                items.append(.failed)
                return items
            }
        }
        if let event = reader.connectionClosed() { add(event) }
        return items
    }

    @Test func anySplitReadsAlikeAndPlainResponsesKeepTheirBody() async {
        var executions = 0
        var whole = 0
        var slowest = Duration.zero
        let clock = ContinuousClock()
        await propertyCheck(count: Self.executions, input: Self.responses) { response in
            executions += 1
            let bytes = response.bytes
            let start = clock.now
            let once = Self.read([bytes[...]])
            var cuts = (0..<Int.random(in: 1...6)).map { _ in Int.random(in: 0...bytes.count) }.sorted()
            cuts = [0] + cuts + [bytes.count]
            let pieces = zip(cuts, cuts.dropFirst()).map { bytes[$0..<$1] }
            let split = Self.read(pieces)
            let byteByByte = bytes.count < 2000 ? Self.read(bytes.indices.map { bytes[$0...$0] }) : split
            slowest = max(slowest, clock.now - start)
            let label = String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription
            #expect(split == once, "split at \(cuts): \(label)")
            #expect(byteByByte == once, "byte by byte: \(label)")
            if let body = response.body {
                whole += 1
                let finalHead = once.last { item in
                    guard case .head(let head) = item else { return false }
                    return head.status >= 200
                }
                #expect(finalHead != nil, "\(label)")
                let read = once.compactMap { item -> [UInt8]? in
                    guard case .body(let bytes) = item else { return nil }
                    return bytes
                }.first ?? []
                #expect(read == body, "\(label)")
                #expect(!once.contains(.failed), "\(label)")
            }
        }
        print("fuzz: responses: \(executions) executions (each read whole, split and byte by byte), \(whole) plain, slowest \(slowest)")
        #expect(executions == Self.executions)
        #expect(slowest < .milliseconds(200), "a response took \(slowest)")
    }
}

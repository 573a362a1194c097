import NIOCore
import Testing

@testable import KilnProxy

@Suite struct HTTP1ResponseReaderTests {
    let allocator = ByteBufferAllocator()

    /// The reader's events with the response heads reduced to their status and consecutive body slices joined,
    /// so that the same response read in different pieces compares equal.
    enum Seen: Equatable, CustomStringConvertible {
        case head(Int)
        case body(String)
        case end(keepAlive: Bool)

        var description: String {
            switch self {
            case .head(let status): "head(\(status))"
            case .body(let text): "body(\(text.debugDescription))"
            case .end(let keepAlive): "end(keepAlive: \(keepAlive))"
            }
        }
    }

    /// Takes every event `buffer` gives, appending them to `seen`; checks the reader consumed every byte (it must
    /// either use bytes or keep them, never leave them for a caller that will not offer them again).
    func drain(
        _ reader: inout HTTP1ResponseReader, _ bytes: some Sequence<UInt8>, into seen: inout [Seen],
        heads: inout [HTTP1Response]
    ) throws {
        var buffer = ByteBuffer(bytes: Array(bytes))
        var steps = 0
        while let event = try reader.next(&buffer, allocator: allocator) {
            steps += 1
            guard steps < 10_000 else {
                Issue.record("the reader does not stop giving events")
                return
            }
            switch event {
            case .head(let response):
                heads.append(response)
                seen.append(.head(response.status))
            case .body(let slice):
                #expect(slice.readableBytes > 0, "an empty body event")
                let text = String(buffer: slice)
                if case .body(let before) = seen.last {
                    seen[seen.count - 1] = .body(before + text)
                } else {
                    seen.append(.body(text))
                }
            case .end(let keepAlive):
                seen.append(.end(keepAlive: keepAlive))
            }
        }
        #expect(buffer.readableBytes == 0, "the reader left \(buffer.readableBytes) bytes unread")
    }

    /// Reads `pieces` one after another as the responses to one request.
    func read(
        _ pieces: [[UInt8]], requestWasHEAD: Bool = false, clientKeepAlive: Bool = true
    ) throws -> (seen: [Seen], heads: [HTTP1Response], reader: HTTP1ResponseReader) {
        var reader = HTTP1ResponseReader()
        reader.expectResponse(requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive)
        var seen: [Seen] = []
        var heads: [HTTP1Response] = []
        for piece in pieces {
            try drain(&reader, piece, into: &seen, heads: &heads)
        }
        return (seen, heads, reader)
    }

    func read(_ text: String, requestWasHEAD: Bool = false, clientKeepAlive: Bool = true) throws -> [Seen] {
        try read([Array(text.utf8)], requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive).seen
    }

    /// Every way of cutting `text` in two.
    func everySplit(_ text: String) -> [(Int, [[UInt8]])] {
        let bytes = Array(text.utf8)
        return (0...bytes.count).map { cut in (cut, [Array(bytes[0..<cut]), Array(bytes[cut...])]) }
    }

    static let lengthResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"

    @Test func aContentLengthResponseInOneBufferIsAHeadItsBodyAndTheEnd() throws {
        let (seen, heads, reader) = try read([Array(Self.lengthResponse.utf8)])
        #expect(seen == [.head(200), .body("hello world"), .end(keepAlive: true)])
        #expect(heads.first?.framing == .length(11))
        #expect(String(buffer: heads[0].forwarded) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n")
        #expect(reader.state == .idle)
    }

    @Test func aContentLengthResponseSplitAnywhereGivesTheSameEvents() throws {
        for (cut, pieces) in everySplit(Self.lengthResponse) {
            let (seen, _, reader) = try read(pieces)
            #expect(seen == [.head(200), .body("hello world"), .end(keepAlive: true)], "cut at \(cut)")
            #expect(reader.state == .idle, "cut at \(cut)")
        }
    }

    @Test func aContentLengthResponseReadOneByteAtATimeGivesTheSameEvents() throws {
        let (seen, _, _) = try read(Self.lengthResponse.utf8.map { [$0] })
        #expect(seen == [.head(200), .body("hello world"), .end(keepAlive: true)])
    }

    @Test func theBackendsCloseAndHTTP10AreInTheEndsKeepAlive() throws {
        #expect(
            try read("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
                == [.head(200), .body("ok"), .end(keepAlive: false)])
        #expect(try read("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") == [.head(200), .body("ok"), .end(keepAlive: false)])
        #expect(try read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == [.head(200), .end(keepAlive: true)])
    }

    static let chunkedResponse =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
        + "4;x=y\r\nWiki\r\n"
        + "5 ; name=\"quoted value\"\r\npedia\r\n"
        + "00E\r\n in\r\n\r\nchunks.\r\n"
        + "a\r\n0123456789\r\n"
        + "0\r\nX-Checksum: abc\r\nX-Other: 2\r\n\r\n"
    static let chunkedBody = "Wikipedia in\r\n\r\nchunks.0123456789"

    @Test func aChunkedResponseIsDecodedWithExtensionsAndATrailer() throws {
        let (seen, heads, reader) = try read([Array(Self.chunkedResponse.utf8)])
        #expect(seen == [.head(200), .body(Self.chunkedBody), .end(keepAlive: true)])
        #expect(heads.first?.framing == .chunked)
        #expect(reader.state == .idle)
    }

    @Test func aChunkedResponseSplitAnywhereIsDecodedTheSame() throws {
        for (cut, pieces) in everySplit(Self.chunkedResponse) {
            let (seen, _, reader) = try read(pieces)
            #expect(seen == [.head(200), .body(Self.chunkedBody), .end(keepAlive: true)], "cut at \(cut)")
            #expect(reader.state == .idle, "cut at \(cut)")
        }
    }

    @Test func aChunkedResponseReadOneByteAtATimeIsDecodedTheSame() throws {
        let (seen, _, _) = try read(Self.chunkedResponse.utf8.map { [$0] })
        #expect(seen == [.head(200), .body(Self.chunkedBody), .end(keepAlive: true)])
    }

    @Test func aChunkedResponseWithoutATrailerEndsAtTheBlankLine() throws {
        #expect(
            try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                == [.head(200), .body("abc"), .end(keepAlive: true)])
        #expect(
            try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == [.head(200), .end(keepAlive: true)])
    }

    func readFails(_ pieces: [String], requestWasHEAD: Bool = false) -> HTTP1ResponseReader.ReadError? {
        var reader = HTTP1ResponseReader()
        reader.expectResponse(requestWasHEAD: requestWasHEAD, clientKeepAlive: true)
        var seen: [Seen] = []
        var heads: [HTTP1Response] = []
        do {
            for piece in pieces { try drain(&reader, Array(piece.utf8), into: &seen, heads: &heads) }
        } catch let error as HTTP1ResponseReader.ReadError {
            // A failed reader stays failed.
            #expect(reader.state == .failed)
            var more = ByteBuffer()
            #expect(throws: HTTP1ResponseReader.ReadError.self) { try reader.next(&more, allocator: allocator) }
            return error
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    static let chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

    @Test func malformedChunkedFramingThrows() {
        #expect(readFails([Self.chunkedHead + "zz\r\nab\r\n0\r\n\r\n"]) != nil, "non-hex size")
        #expect(readFails([Self.chunkedHead + "\r\nab\r\n0\r\n\r\n"]) != nil, "empty size")
        #expect(readFails([Self.chunkedHead + ";x\r\nab\r\n0\r\n\r\n"]) != nil, "extension without a size")
        #expect(readFails([Self.chunkedHead + " 2\r\nab\r\n0\r\n\r\n"]) != nil, "space before the size")
        #expect(readFails([Self.chunkedHead + "-2\r\nab\r\n0\r\n\r\n"]) != nil, "negative size")
        #expect(readFails([Self.chunkedHead + "2\nab\r\n0\r\n\r\n"]) != nil, "bare LF after the size")
        #expect(readFails([Self.chunkedHead + "2\rab\r\n0\r\n\r\n"]) != nil, "CR without LF after the size")
        #expect(readFails([Self.chunkedHead + "2;x\u{0}\r\nab\r\n0\r\n\r\n"]) != nil, "control byte in an extension")
        #expect(readFails([Self.chunkedHead + "1000000000000000\r\n"]) != nil, "sixteen hex digits")
        #expect(readFails([Self.chunkedHead + "0\r\nX: 1\r\n\rX"]) != nil, "CR without LF in the trailer")
    }

    @Test func chunkExtensionsAreTakenUpToTheirCap() throws {
        let longest = String(repeating: "e", count: HTTP1ResponseReader.maxChunkExtensionBytes)
        #expect(try read(Self.chunkedHead + "2;" + longest + "\r\nab\r\n0\r\n\r\n").contains(.body("ab")))
        let tooLong = String(repeating: "e", count: HTTP1ResponseReader.maxChunkExtensionBytes + 1)
        #expect(readFails([Self.chunkedHead + "2;" + tooLong + "\r\nab\r\n0\r\n\r\n"]) == .init(reason: "chunk extension too long"))
        // Counted across reads, not per read.
        let pieces = [Self.chunkedHead + "2;"] + Array(repeating: String(repeating: "e", count: 1000), count: 5) + ["\r\nab\r\n0\r\n\r\n"]
        #expect(readFails(pieces) == .init(reason: "chunk extension too long"))
    }

    @Test func chunkDataLongerThanItsSizeThrows() {
        #expect(readFails([Self.chunkedHead + "3\r\nabcd\r\n0\r\n\r\n"]) != nil)
        #expect(readFails([Self.chunkedHead + "3\r\nabc\rX\r\n0\r\n\r\n"]) != nil)
        #expect(readFails([Self.chunkedHead + "3\r\nab", "cd\r\n0\r\n\r\n"]) != nil)
    }

    @Test func bytesWhileNoRequestIsOutstandingThrow() throws {
        var reader = HTTP1ResponseReader()
        var empty = ByteBuffer()
        #expect(try reader.next(&empty, allocator: allocator) == nil)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(throws: HTTP1ResponseReader.ReadError.self) { try reader.next(&buffer, allocator: allocator) }
        #expect(reader.state == .failed)
    }

    @Test func bytesAfterACompleteResponseThrow() {
        #expect(readFails(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokX"]) != nil)
        #expect(readFails([Self.chunkedHead + "0\r\n\r\nX"]) != nil)
        #expect(readFails(["HTTP/1.1 204 No Content\r\n\r\nX"]) != nil)
    }

    @Test func malformedOrRefusedHeadsThrow() {
        #expect(readFails(["HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"]) != nil)
        #expect(readFails(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"]) != nil)
        #expect(readFails(["SSH-2.0-OpenSSH_9.6\r\n"]) != nil)
        #expect(readFails(["HTTP/1.1 200 OK\r\nBad Field: 1\r\n\r\n"]) != nil)
    }

    @Test func aHeadLargerThanTheLimitThrows() {
        let huge = "HTTP/1.1 200 OK\r\nX-Padding: " + String(repeating: "p", count: HTTP1ResponseReader.maxHeadBytes)
        #expect(readFails([huge]) != nil)
        let pieces = stride(from: 0, to: huge.utf8.count, by: 4096).map { start in
            String(decoding: Array(huge.utf8)[start..<min(start + 4096, huge.utf8.count)], as: UTF8.self)
        }
        #expect(readFails(pieces) != nil)
        // Whole in one read, it is refused as it is in pieces: the limit does not depend on how
        // the backend's bytes were split into reads.
        let whole = huge + "\r\nContent-Length: 0\r\n\r\n"
        #expect(readFails([whole]) != nil)
    }

    @Test func anUntilCloseBodyEndsWhenTheBackendCloses() throws {
        let (seen, heads, readerAfterBody) = try read([Array("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nabc".utf8), Array("def".utf8), []])
        var reader = readerAfterBody
        #expect(seen == [.head(200), .body("abcdef")])
        #expect(heads.first?.framing == .untilClose)
        #expect(reader.state == .untilClose)
        #expect(reader.connectionClosed() == .end(keepAlive: false))
        #expect(reader.state == .idle)
        #expect(reader.connectionClosed() == nil)
    }

    @Test func aCloseInsideAFramedBodyIsNotAnEnd() throws {
        for (text, expected) in [
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", [Seen.head(200), .body("abc")]),
            (Self.chunkedHead + "5\r\nab", [.head(200), .body("ab")]),
            (Self.chunkedHead + "2\r\nab\r\n", [.head(200), .body("ab")]),
            ("HTTP/1.1 200 OK\r\nContent-Le", []),
        ] {
            let (seen, _, readerCutShort) = try read([Array(text.utf8)])
            var reader = readerCutShort
            #expect(seen == expected, "\(text.debugDescription)")
            #expect(reader.connectionClosed() == nil, "\(text.debugDescription)")
        }
    }

    @Test func anInformationalResponseIsFollowedByTheFinalOneInTheSameBuffer() throws {
        let text =
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        let (seen, heads, reader) = try read([Array(text.utf8)])
        #expect(seen == [.head(103), .head(200), .body("hi"), .end(keepAlive: true)])
        #expect(heads.map(\.framing) == [.none, .length(2)])
        #expect(reader.state == .idle)
        for (cut, pieces) in everySplit(text) {
            #expect(try read(pieces).seen == [.head(103), .head(200), .body("hi"), .end(keepAlive: true)], "cut at \(cut)")
        }
    }

    @Test func aResponseToHEADEndsRightAfterItsHead() throws {
        let (seen, heads, reader) = try read([Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".utf8)], requestWasHEAD: true)
        #expect(seen == [.head(200), .end(keepAlive: true)])
        #expect(heads.first?.framing == HTTP1Response.Framing.none)
        #expect(reader.state == .idle)
        #expect(
            try read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", requestWasHEAD: true)
                == [.head(200), .end(keepAlive: true)])
    }

    @Test func noContentAndNotModifiedEndRightAfterTheirHeads() throws {
        #expect(try read("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n") == [.head(204), .end(keepAlive: true)])
        #expect(try read("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n") == [.head(304), .end(keepAlive: true)])
    }

    @Test func aConnectionCarriesOneResponseAfterAnother() throws {
        var reader = HTTP1ResponseReader()
        var seen: [Seen] = []
        var heads: [HTTP1Response] = []
        reader.expectResponse(requestWasHEAD: false, clientKeepAlive: true)
        try drain(&reader, Array((Self.lengthResponse).utf8), into: &seen, heads: &heads)
        reader.expectResponse(requestWasHEAD: false, clientKeepAlive: false)
        try drain(&reader, Array((Self.chunkedResponse).utf8), into: &seen, heads: &heads)
        reader.expectResponse(requestWasHEAD: true, clientKeepAlive: true)
        try drain(&reader, Array("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n".utf8), into: &seen, heads: &heads)
        #expect(
            seen == [
                .head(200), .body("hello world"), .end(keepAlive: true),
                .head(200), .body(Self.chunkedBody), .end(keepAlive: true),
                .head(404), .end(keepAlive: true),
            ])
        #expect(heads.count == 3)
        #expect(String(buffer: heads[1].forwarded).hasSuffix("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"))
    }

    @Test func aHeadSplitAcrossReadsKeepsTheBodyBytesThatCameWithItsEnd() throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"
        let (seen, _, _) = try read([Array(head.utf8.prefix(10)), Array(head.utf8.dropFirst(10)) + Array("abc".utf8), Array("def".utf8)])
        #expect(seen == [.head(200), .body("abcdef"), .end(keepAlive: true)])
    }
}

import NIOCore

/// Reads responses off a backend connection of the fast path, as a pure state machine: bytes in,
/// events out, one at a time. The body comes out as slices of what was read, with the chunked
/// framing taken off (the client side frames it anew), so nothing the backend wrote about
/// framing reaches the client unchecked.
struct HTTP1ResponseReader {
    enum State: Equatable {
        /// No request is outstanding: bytes now are an error.
        case idle
        /// A request was sent: its response head is awaited.
        case head(requestWasHEAD: Bool, clientKeepAlive: Bool)
        case fixedBody(remaining: Int)
        case chunkedBody(Chunk)
        case untilClose
        /// The response's bytes are all read: its end is the next event.
        case ending
        case failed
    }

    /// Where the chunked decoder is (RFC 9112 §7.1).
    enum Chunk: Equatable {
        /// `extension`: how many bytes of a chunk extension were read (nil: not in one).
        case size(value: Int, digits: Int, extension: Int?)
        case sizeLF(value: Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        /// In the trailer section, `lineStart` when at the start of a line.
        case trailer(lineStart: Bool)
        case trailerLF(lineWasEmpty: Bool)
    }

    enum Event: Equatable {
        case head(HTTP1Response)
        case body(ByteBuffer)
        /// The response is complete; `keepAlive` whether the connection can carry another.
        case end(keepAlive: Bool)
    }

    struct ReadError: Error, Equatable {
        var reason: String
    }

    static let maxHeadBytes = 64 * 1024
    /// The longest chunk extension taken from a backend: 4 KiB is far beyond any in use.
    static let maxChunkExtensionBytes = 4096

    private(set) var state = State.idle
    /// Bytes of a head that did not arrive in one read.
    private var partialHead: ByteBuffer?
    private var keepAlive = true

    /// A request went out: its response is next.
    mutating func expectResponse(requestWasHEAD: Bool, clientKeepAlive: Bool) {
        state = .head(requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive)
        partialHead = nil
    }

    /// The next event from `buffer` (consuming what it read), or nil when it needs more bytes.
    mutating func next(_ buffer: inout ByteBuffer, allocator: ByteBufferAllocator) throws(ReadError) -> Event? {
        switch state {
        case .idle:
            guard buffer.readableBytes == 0 else { throw fail("bytes from the backend while no request was outstanding") }
            return nil
        case .failed:
            throw ReadError(reason: "the connection already failed")
        case .head(let requestWasHEAD, let clientKeepAlive):
            return try readHead(&buffer, requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive, allocator: allocator)
        case .fixedBody(let remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let count = min(remaining, buffer.readableBytes)
            guard let slice = buffer.readSlice(length: count) else { return nil }
            state = remaining == count ? .ending : .fixedBody(remaining: remaining - count)
            return .body(slice)
        case .ending:
            state = .idle
            return .end(keepAlive: keepAlive)
        case .chunkedBody(let chunk):
            return try readChunked(&buffer, chunk)
        case .untilClose:
            guard buffer.readableBytes > 0 else { return nil }
            return buffer.readSlice(length: buffer.readableBytes).map { .body($0) }
        }
    }

    /// The backend closed the connection: the end of a response read until close, else nil
    /// (the response, if any, was cut short).
    mutating func connectionClosed() -> Event? {
        if case .untilClose = state {
            state = .idle
            return .end(keepAlive: false)
        }
        return nil
    }

    private mutating func fail(_ reason: String) -> ReadError {
        state = .failed
        return ReadError(reason: reason)
    }

    private mutating func readHead(
        _ buffer: inout ByteBuffer, requestWasHEAD: Bool, clientKeepAlive: Bool, allocator: ByteBufferAllocator
    ) throws(ReadError) -> Event? {
        guard buffer.readableBytes > 0 else { return nil }
        if var partial = partialHead {
            partialHead = nil
            partial.writeBuffer(&buffer)
            buffer = partial
        }
        switch HTTP1Response.parse(buffer, requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive, allocator: allocator) {
        case .incomplete:
            guard buffer.readableBytes < Self.maxHeadBytes else { throw fail("response head too large") }
            partialHead = buffer.readSlice(length: buffer.readableBytes)
            return nil
        case .invalid(let reason):
            throw fail(reason)
        case .response(let response, let consumed):
            // The same limit for a head that came in one read as for one that came in pieces.
            guard consumed <= Self.maxHeadBytes else { throw fail("response head too large") }
            buffer.moveReaderIndex(forwardBy: consumed)
            keepAlive = response.keepAlive
            switch response.framing {
            case .none:
                state = response.isInformational ? .head(requestWasHEAD: requestWasHEAD, clientKeepAlive: clientKeepAlive) : .ending
            case .length(let length):
                state = length == 0 ? .ending : .fixedBody(remaining: length)
            case .chunked:
                state = .chunkedBody(.size(value: 0, digits: 0, extension: nil))
            case .untilClose:
                state = .untilClose
            }
            return .head(response)
        }
    }

    private mutating func readChunked(_ buffer: inout ByteBuffer, _ start: Chunk) throws(ReadError) -> Event? {
        var chunk = start
        while buffer.readableBytes > 0 {
            if case .data(let remaining) = chunk {
                let count = min(remaining, buffer.readableBytes)
                guard let slice = buffer.readSlice(length: count) else { return nil }
                state = .chunkedBody(remaining == count ? .dataCR : .data(remaining: remaining - count))
                return .body(slice)
            }
            let byte = buffer.readInteger(as: UInt8.self)!
            switch chunk {
            case .size(let value, let digits, let extensionBytes):
                if byte == .cr {
                    guard digits > 0 else { throw fail("malformed chunk size") }
                    chunk = .sizeLF(value: value)
                } else if let extensionBytes {
                    guard byte >= 0x20 && byte != 0x7F || byte == .tab else { throw fail("malformed chunk extension") }
                    // Extensions are ignored, not kept; the cap stops a backend that sends one forever.
                    guard extensionBytes < Self.maxChunkExtensionBytes else { throw fail("chunk extension too long") }
                    chunk = .size(value: value, digits: digits, extension: extensionBytes + 1)
                } else if let digit = byte.hexValue {
                    guard digits < 15 else { throw fail("chunk too large") }
                    chunk = .size(value: value << 4 | digit, digits: digits + 1, extension: nil)
                } else if (byte == UInt8(ascii: ";") || byte == .space || byte == .tab) && digits > 0 {
                    chunk = .size(value: value, digits: digits, extension: 0)
                } else {
                    throw fail("malformed chunk size")
                }
            case .sizeLF(let value):
                guard byte == .lf else { throw fail("malformed chunk size") }
                chunk = value == 0 ? .trailer(lineStart: true) : .data(remaining: value)
            case .dataCR:
                guard byte == .cr else { throw fail("chunk longer than its size") }
                chunk = .dataLF
            case .dataLF:
                guard byte == .lf else { throw fail("chunk longer than its size") }
                chunk = .size(value: 0, digits: 0, extension: nil)
            case .trailer(let lineStart):
                chunk = byte == .cr ? .trailerLF(lineWasEmpty: lineStart) : .trailer(lineStart: false)
            case .trailerLF(let lineWasEmpty):
                guard byte == .lf else { throw fail("malformed trailer") }
                if lineWasEmpty {
                    state = .idle
                    return .end(keepAlive: keepAlive)
                }
                chunk = .trailer(lineStart: true)
            case .data:
                preconditionFailure("handled above")
            }
        }
        state = .chunkedBody(chunk)
        return nil
    }
}

extension UInt8 {
    var hexValue: Int? {
        switch self {
        case 0x30...0x39: Int(self - 0x30)
        case 0x41...0x46: Int(self - 0x41 + 10)
        case 0x61...0x66: Int(self - 0x61 + 10)
        default: nil
        }
    }
}

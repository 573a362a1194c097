import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A request head the fast path forwards: HTTP/1.1, origin-form target, one valid Host, bodiless or
/// framed by one Content-Length, no upgrade, no Expect, Connection naming only close or keep-alive. Kept as the
/// bytes it came in with the offsets of what the proxy reads; `forwarded` is already the head as
/// the backend gets it, but for the fields the proxy adds (`finishForwarded`).
struct HTTP1Request: ExchangeRequestHead {
    enum Method: Equatable {
        case get, head, other
    }

    /// The head as received, to the end of its blank line; offsets below are into it.
    var head: ByteBuffer
    var method: Method
    var methodEnd: Int
    var target: Range<Int>
    /// The request line without its CRLF: what the access log quotes.
    var requestLine: Range<Int>
    var host: Range<Int>?
    var referer: Range<Int>?
    var userAgent: Range<Int>?
    var forwardedFor: Range<Int>?
    var contentLength: Int
    var isKeepAlive: Bool
    var isIdempotent: Bool
    var forwarded: ByteBuffer

    /// GET and HEAD: the read class of the layered timeouts.
    var isReadClass: Bool { method != .other }

    var targetString: String { head.getString(at: target.lowerBound, length: target.count) ?? "/" }

    var hostString: String? { host.flatMap { head.getString(at: $0.lowerBound, length: $0.count) } }

    enum Parse: Equatable {
        /// More bytes are needed.
        case incomplete
        /// A head the fast path forwards; `consumed` bytes of the buffer were its head.
        case request(HTTP1Request)
        /// Anything else (another version, an upgrade, chunked framing, a malformed or oversized
        /// head): the general path takes the connection and answers it.
        case general
    }

    static func parse(_ buffer: ByteBuffer, maxHeadBytes: Int, allocator: ByteBufferAllocator) -> Parse {
        let parsed = buffer.withUnsafeReadableBytes { bytes -> Parse in
            parse(bytes, of: buffer, maxHeadBytes: maxHeadBytes, allocator: allocator)
        }
        if case .incomplete = parsed, buffer.readableBytes > maxHeadBytes { return .general }
        return parsed
    }

    private static func parse(
        _ bytes: UnsafeRawBufferPointer, of buffer: ByteBuffer, maxHeadBytes: Int, allocator: ByteBufferAllocator
    ) -> Parse {
        let count = bytes.count
        var index = 0
        while index < count, bytes[index].isTokenCharacter { index += 1 }
        guard index < count else { return .incomplete }
        guard index > 0, bytes[index] == .space else { return .general }
        let methodEnd = index
        index += 1
        let targetStart = index
        guard index < count else { return .incomplete }
        guard bytes[index] == UInt8(ascii: "/") else { return .general }
        while index < count, bytes[index] > 0x20, bytes[index] < 0x7F { index += 1 }
        guard index < count else { return .incomplete }
        guard bytes[index] == .space else { return .general }
        let target = targetStart..<index
        index += 1
        guard index + 10 <= count else {
            // Wait only for what can still become the version: a head whose request line ended
            // without one (`GET / \r\n\r\n`) is the general path's 400, not a wait.
            return UnsafeRawBufferPointer(rebasing: bytes[index..<count]).isPrefix(of: "HTTP/1.1\r\n") ? .incomplete : .general
        }
        guard UnsafeRawBufferPointer(rebasing: bytes[index..<index + 10]).equalsExactly("HTTP/1.1\r\n") else { return .general }
        let requestLine = 0..<index + 8
        index += 10

        let methodBytes = UnsafeRawBufferPointer(rebasing: bytes[0..<methodEnd])
        let method: Method = methodBytes.equalsExactly("GET") ? .get : methodBytes.equalsExactly("HEAD") ? .head : .other
        let isIdempotent =
            method != .other || methodBytes.equalsExactly("PUT") || methodBytes.equalsExactly("DELETE")
            || methodBytes.equalsExactly("OPTIONS") || methodBytes.equalsExactly("TRACE")

        var forwarded = allocator.buffer(capacity: min(count, maxHeadBytes) + 192)
        var runStart = 0
        var host: Range<Int>?
        var referer: Range<Int>?
        var userAgent: Range<Int>?
        var forwardedFor: Range<Int>?
        var contentLength: Int?
        var isKeepAlive = true
        while true {
            switch HeadScanner.fieldLine(bytes, from: index) {
            case .incomplete:
                return .incomplete
            case .invalid:
                return .general
            case .end(let next):
                // No Host in HTTP/1.1 is the general path's 400 (RFC 9112 §3.2).
                guard next <= maxHeadBytes, host != nil else { return .general }
                guard let head = buffer.getSlice(at: buffer.readerIndex, length: next) else { return .incomplete }
                forwarded.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                return .request(HTTP1Request(
                    head: head, method: method, methodEnd: methodEnd, target: target, requestLine: requestLine,
                    host: host, referer: referer, userAgent: userAgent, forwardedFor: forwardedFor,
                    contentLength: contentLength ?? 0, isKeepAlive: isKeepAlive, isIdempotent: isIdempotent,
                    forwarded: forwarded))
            case .field(let line):
                let value = line.valueStart..<line.valueEnd
                var drop = false
                switch HeaderField.classify(bytes, line.start, line.nameEnd) {
                case .other:
                    break
                case .host:
                    guard host == nil, HostSyntax.isValid(bytes, value.lowerBound, value.upperBound) else { return .general }
                    host = value
                case .contentLength:
                    guard contentLength == nil, let length = HeadScanner.decimal(bytes, value.lowerBound, value.upperBound) else {
                        return .general
                    }
                    contentLength = length
                case .transferEncoding, .upgrade, .expect:
                    return .general
                case .connection:
                    var onlyKnown = true
                    bytes.forEachToken(value.lowerBound, value.upperBound) { token in
                        if token.equalsLowercased("close") {
                            isKeepAlive = false
                        } else if !token.equalsLowercased("keep-alive") {
                            onlyKnown = false
                        }
                    }
                    guard onlyKnown else { return .general }
                    drop = true
                case .hopByHop, .proxySet:
                    drop = true
                case .xForwardedFor:
                    guard forwardedFor == nil else { return .general }
                    forwardedFor = value
                    drop = true
                case .referer:
                    referer = value
                case .userAgent:
                    userAgent = value
                }
                if drop {
                    forwarded.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<line.start]))
                    runStart = line.next
                }
                index = line.next
            }
        }
    }
}

extension UnsafeRawBufferPointer {
    func equalsExactly(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { expected in
            expected.count == count && memcmp(baseAddress!, expected.baseAddress!, count) == 0
        }
    }

    /// Whether these bytes are where `literal` starts (rare: only a request line cut short).
    func isPrefix(of literal: StaticString) -> Bool {
        literal.withUTF8Buffer { expected in
            count <= expected.count && elementsEqual(expected.prefix(count))
        }
    }
}

extension HTTP1Request {
    /// Appends who asked and how (RFC 7239's de facto fields, as nginx sets them) and the blank
    /// line: `forwarded` is then the head as the backend gets it. Called once, while this value is
    /// the buffer's only owner, so the appends do not copy it.
    mutating func finishForwarded(clientAddress: String, scheme: String) {
        let head = self.head
        forwarded.writeStaticString("X-Forwarded-For: ")
        if let prior = forwardedFor {
            forwarded.writeBytes(head, prior)
            forwarded.writeStaticString(", ")
        }
        forwarded.writeString(clientAddress)
        forwarded.writeStaticString("\r\nX-Forwarded-Proto: ")
        forwarded.writeString(scheme)
        if let host {
            forwarded.writeStaticString("\r\nX-Forwarded-Host: ")
            forwarded.writeBytes(head, host)
        }
        forwarded.writeStaticString("\r\nX-Original-URI: ")
        forwarded.writeBytes(head, target)
        forwarded.writeStaticString("\r\n\r\n")
    }
}

extension ByteBuffer {
    /// Appends `source`'s readable bytes at the offsets `range`.
    mutating func writeBytes(_ source: ByteBuffer, _ range: Range<Int>) {
        source.withUnsafeReadableBytes { bytes in
            _ = writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range]))
        }
    }
}

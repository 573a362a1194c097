import NIOCore

/// A backend's response head as the fast path forwards it: `forwarded` is the head as the client
/// gets it, the end-to-end fields as they came and the framing and connection fields the proxy's.
struct HTTP1Response: ExchangeResponseHead {
    /// How the body is delimited on the backend connection (RFC 9112 §6.3).
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        /// Read until the backend closes: the client gets it chunked.
        case untilClose
    }

    var status: Int
    var framing: Framing
    /// The backend connection can carry another exchange after this one.
    var keepAlive: Bool
    /// `HTTP/1.1 <status> <reason>`, the end-to-end fields, the proxy's framing and connection
    /// fields, the blank line.
    var forwarded: ByteBuffer

    /// The client gets the body chunked: it came chunked, or delimited by the backend's close.
    var isChunkedToClient: Bool { framing == .chunked || framing == .untilClose }

    var isSwitchingProtocols: Bool { status == 101 }
    var isInformational: Bool { status >= 100 && status < 200 }

    enum Parse: Equatable {
        case incomplete
        /// The head and the number of bytes it took.
        case response(HTTP1Response, consumed: Int)
        case invalid(String)
    }

    /// Parses the head at the start of `bytes`; `requestWasHEAD` because a response to HEAD has no
    /// body whatever its fields say; `clientKeepAlive` whether the client's connection stays open.
    static func parse(
        _ buffer: ByteBuffer, requestWasHEAD: Bool, clientKeepAlive: Bool, allocator: ByteBufferAllocator
    ) -> Parse {
        let parsed = buffer.withUnsafeReadableBytes { bytes in
            parse(bytes, requestWasHEAD: requestWasHEAD, allocator: allocator)
        }
        guard case .response(var response, let consumed) = parsed else { return parsed }
        if response.isSwitchingProtocols { return .invalid("101 to a request that asked for no upgrade") }
        if !response.isInformational {
            if response.isChunkedToClient { response.forwarded.writeStaticString("Transfer-Encoding: chunked\r\n") }
            if !clientKeepAlive { response.forwarded.writeStaticString("Connection: close\r\n") }
        }
        response.forwarded.writeStaticString("\r\n")
        return .response(response, consumed: consumed)
    }

    /// What the fields say, and which must be dropped beyond the hop-by-hop ones.
    private struct Fields {
        var contentLength: Int?
        var conflictingLength = false
        var transferEncoding = false
        /// Transfer-Encoding is exactly `chunked`: other codings are refused (as nginx does), since
        /// the client would get coded bytes under a framing that no longer says so.
        var onlyChunked = true
        var close = false
        var keepAliveToken = false
        /// Fields named by Connection (RFC 9110 §7.6.1), lower-cased; rare.
        var connectionOptions: [[UInt8]] = []
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, requestWasHEAD: Bool, allocator: ByteBufferAllocator) -> Parse {
        // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF.
        let prefix: StaticString = "HTTP/1."
        let known = min(bytes.count, prefix.utf8CodeUnitCount)
        guard prefix.withUTF8Buffer({ UnsafeRawBufferPointer(rebasing: bytes[0..<known]).elementsEqual($0.prefix(known)) }) else {
            return .invalid("malformed status line")
        }
        guard bytes.count >= 13 else { return .incomplete }
        guard bytes[7] == UInt8(ascii: "0") || bytes[7] == UInt8(ascii: "1"), bytes[8] == .space,
            let status = HeadScanner.decimal(bytes, 9, 12), status >= 100, bytes[12] == .space || bytes[12] == .cr
        else { return .invalid("malformed status line") }
        let isHTTP11 = bytes[7] == UInt8(ascii: "1")
        var index = 12
        while index < bytes.count, bytes[index] != .cr {
            guard bytes[index] >= 0x20 && bytes[index] != 0x7F || bytes[index] == .tab else { return .invalid("malformed status line") }
            index += 1
        }
        guard index + 1 < bytes.count else { return .incomplete }
        guard bytes[index + 1] == .lf else { return .invalid("malformed status line") }
        let statusLineEnd = index + 2

        var forwarded = allocator.buffer(capacity: min(bytes.count, 8192) + 64)
        let fields: Fields
        let end: Int
        switch copyFields(bytes, from: statusLineEnd, into: &forwarded, dropping: nil) {
        case .copied(let found, let next): (fields, end) = (found, next)
        case .incomplete: return .incomplete
        case .invalid: return .invalid("malformed header field")
        }
        if fields.transferEncoding && !fields.onlyChunked { return .invalid("a transfer coding other than chunked") }
        if fields.conflictingLength && !fields.transferEncoding { return .invalid("conflicting Content-Length") }
        // Both framings (RFC 9112 §6.3): chunked wins, the length is dropped, the connection not reused.
        let chunkedWithLength = fields.transferEncoding && (fields.contentLength != nil || fields.conflictingLength)
        if chunkedWithLength || !fields.connectionOptions.isEmpty {
            // Rare: copy again, now knowing every field to leave out.
            forwarded.clear()
            _ = copyFields(bytes, from: statusLineEnd, into: &forwarded, dropping: fields)
        }

        let framing: Framing
        if requestWasHEAD || status < 200 || status == 204 || status == 304 {
            framing = .none
        } else if fields.transferEncoding {
            framing = .chunked
        } else if let length = fields.contentLength {
            framing = .length(length)
        } else {
            framing = .untilClose
        }
        let keepAlive =
            framing != .untilClose && !chunkedWithLength && !fields.close && (isHTTP11 || fields.keepAliveToken)
        return .response(HTTP1Response(status: status, framing: framing, keepAlive: keepAlive, forwarded: forwarded), consumed: end)
    }

    private enum Copy {
        case copied(Fields, end: Int)
        case incomplete
        case invalid
    }

    /// Copies the status line (as HTTP/1.1) and the fields to keep into `forwarded`, reading
    /// what the framing and connection fields say; `dropping` is a first pass's findings.
    private static func copyFields(
        _ bytes: UnsafeRawBufferPointer, from start: Int, into forwarded: inout ByteBuffer, dropping known: Fields?
    ) -> Copy {
        forwarded.writeStaticString("HTTP/1.1")
        var runStart = 8
        var fields = Fields()
        var index = start
        while true {
            switch HeadScanner.fieldLine(bytes, from: index) {
            case .incomplete:
                return .incomplete
            case .invalid:
                return .invalid
            case .end(let next):
                forwarded.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                return .copied(fields, end: next)
            case .field(let line):
                var drop = false
                switch HeaderField.classify(bytes, line.start, line.nameEnd) {
                case .contentLength:
                    let length = HeadScanner.decimal(bytes, line.valueStart, line.valueEnd)
                    if length == nil || (fields.contentLength != nil && fields.contentLength != length) {
                        fields.conflictingLength = true
                    }
                    fields.contentLength = length ?? fields.contentLength
                    drop = known?.transferEncoding ?? false
                case .transferEncoding:
                    if fields.transferEncoding { fields.onlyChunked = false }
                    fields.transferEncoding = true
                    var tokens = 0
                    bytes.forEachToken(line.valueStart, line.valueEnd) { token in
                        tokens += 1
                        if !token.equalsLowercased("chunked") { fields.onlyChunked = false }
                    }
                    if tokens != 1 { fields.onlyChunked = false }
                    drop = true
                case .connection:
                    bytes.forEachToken(line.valueStart, line.valueEnd) { token in
                        if token.equalsLowercased("close") {
                            fields.close = true
                        } else if token.equalsLowercased("keep-alive") {
                            fields.keepAliveToken = true
                        } else {
                            fields.connectionOptions.append(token.map { $0 | ($0.isUppercaseASCII ? 0x20 : 0) })
                        }
                    }
                    drop = true
                case .hopByHop, .upgrade:
                    drop = true
                default:
                    if let options = known?.connectionOptions, !options.isEmpty {
                        let name = UnsafeRawBufferPointer(rebasing: bytes[line.start..<line.nameEnd])
                        drop = options.contains { $0.elementsEqual(name.lazy.map { $0 | ($0.isUppercaseASCII ? 0x20 : 0) }) }
                    }
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

extension UInt8 {
    var isUppercaseASCII: Bool { self >= 0x41 && self <= 0x5A }
}

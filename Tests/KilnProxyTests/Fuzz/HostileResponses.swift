import PropertyBased

/// Backend responses as a broken or hostile backend writes them: every framing, with chunk
/// extensions, trailers and informational heads, and the framing tricks (two lengths, length and
/// chunked, bad chunk sizes) and random bytes spliced in. A response made without a trick comes
/// with the body it means, for the reader's decoding to be checked against.
enum HostileResponses {
    typealias RNG = any SeededRandomNumberGenerator

    struct Response {
        var bytes: [UInt8]
        /// The body meant, when nothing was spliced in and the framing is a plain one.
        var body: [UInt8]?
        var status: Int
    }

    static func pick<T>(_ values: [T], _ rng: inout RNG) -> T {
        values[Int.random(in: 0..<values.count, using: &rng)]
    }

    static func response(_ rng: inout RNG) -> Response {
        var clean = true
        var text = ""
        if Int.random(in: 0..<6, using: &rng) == 0 { text += "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" }
        let status = Int.random(in: 0..<8, using: &rng) == 0 ? pick([204, 304, 101, 100, 99, 999], &rng) : pick([200, 404, 500], &rng)
        let version = Int.random(in: 0..<10, using: &rng) == 0 ? pick(["HTTP/1.0", "HTTP/2", "HTTP/1.1  ", "http/1.1"], &rng) : "HTTP/1.1"
        if version != "HTTP/1.1" { clean = false }
        text += "\(version) \(status) Reason\r\nServer: fuzz\r\n"
        if Int.random(in: 0..<5, using: &rng) == 0 { text += pick(["Connection: close\r\n", "Connection: keep-alive, X-A\r\nX-A: 1\r\n", "Keep-Alive: 5\r\n"], &rng) }
        let body = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var bodyBytes: [UInt8] = []
        switch Int.random(in: 0..<8, using: &rng) {
        case 0, 1, 2:
            text += "Content-Length: \(body.count)\r\n"
            bodyBytes = body
        case 3, 4, 5:
            text += "Transfer-Encoding: chunked\r\n"
            var rest = body[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...max(1, rest.count), using: &rng)
                let extensionText = Int.random(in: 0..<5, using: &rng) == 0 ? pick([";a=b", ";q=\"x;y\"", " ;z", "\t;w"], &rng) : ""
                bodyBytes += Array((String(size, radix: 16) + extensionText + "\r\n").utf8) + rest.prefix(size) + [13, 10]
                rest = rest.dropFirst(size)
            }
            bodyBytes += Array(("0\r\n" + (Bool.random(using: &rng) ? "Trailer-A: 1\r\n" : "") + "\r\n").utf8)
        case 6:
            // Until the close: the test closes after the bytes.
            bodyBytes = body
        default:
            clean = false
            text += pick([
                "Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                "Transfer-Encoding: gzip, chunked\r\n", "Content-Length: +5\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "Content-Length: 99999999999999999999\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n",
            ], &rng)
            bodyBytes = Array(pick(["hello", "5\r\nhello\r\n0\r\n\r\n", "ffffffffffffffffff\r\n", "zz\r\n", "5\r\nhelloXX", "-1\r\n"], &rng).utf8)
        }
        if Int.random(in: 0..<30, using: &rng) == 0 {
            // Past the reader's head limit: refused, however it is split.
            clean = false
            text += "X-Big: " + String(repeating: "b", count: 70_000) + "\r\n"
        }
        text += "\r\n"
        var bytes = Array(text.utf8) + bodyBytes
        if Int.random(in: 0..<4, using: &rng) == 0 {
            clean = false
            for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[at] = pick([0, 9, 10, 13, 32, 48, 59, 102, UInt8.random(in: 0...255, using: &rng)], &rng)
            }
        }
        let bodiless = status == 204 || status == 304 || status < 200
        return Response(bytes: bytes, body: clean && !bodiless ? body : nil, status: status)
    }
}

import PropertyBased

/// HTTP/1 request heads as a hostile client writes them: every field the fast path acts on, with
/// the framing tricks of the smuggling corpus, and random bytes spliced in.
enum HostileHeads {
    typealias RNG = any SeededRandomNumberGenerator

    static let methods = ["GET", "GET", "HEAD", "POST", "PUT", "DELETE", "get", "G@T", "", "CONNECT", "OPTIONS"]
    static let targets = ["/", "/t/a?b=c", "/t/", "http://x/", "*", "/a b", "/\u{7F}", "a.example:443", "/%00", "/é"]
    static let versions = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "http/1.1", "HTTP/1.1 ", "HTTP/1.10", "", "HTTP/1"]
    static let lineEnds = ["\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r", "\r\r\n", "\n\r"]
    static let separators = [": ", ": ", ":", ":  ", " : ", ":\t", ":\u{0B}", "\t:", ": \t"]
    static let fields: [(String, [String])] = [
        ("Host", ["a.example", "t.localhost:8080", "", "a b", "user@a", "a:http", "[::1]:443", "[::1", "a/b", "a\u{0}b"]),
        ("Content-Length", ["5", "0", "+5", "-5", "0x5", "99999999999999999999", "5, 5", " 5 ", "", "18446744073709551616", "000005"]),
        ("Transfer-Encoding", ["chunked", "chunked, identity", " chunked", "xchunked", "chunked\t", "identity", "gzip, chunked"]),
        ("Connection", ["close", "keep-alive", "Upgrade", "close, X-A", "", ",,", "keep-alive, close"]),
        ("Upgrade", ["websocket", "h2c"]),
        ("Expect", ["100-continue", "200-ok"]),
        ("X-Forwarded-For", ["1.2.3.4", "", "a, b"]),
        ("User-Agent", ["fuzz/1", ""]),
        ("Referer", ["http://r/"]),
        ("Keep-Alive", ["5"]), ("TE", ["trailers"]), ("Proxy-Connection", ["close"]), ("X-Original-URI", ["/spoof"]),
        ("X-A", ["b", "\u{7F}", "é", "a\u{1B}b"]),
        ("host", ["A.EXAMPLE"]), ("content-LENGTH", ["3"]), ("TRANSFER-ENCODING", ["chunked"]),
    ]

    static func pick<T>(_ values: [T], _ rng: inout RNG) -> T {
        values[Int.random(in: 0..<values.count, using: &rng)]
    }

    /// A head (with perhaps a body or the start of another request after it).
    static func head(_ rng: inout RNG) -> [UInt8] {
        // Half are plausible, with the tricks only in the fields' values, so that the fast path
        // takes enough of them for its readings to be compared.
        let plausible = Bool.random(using: &rng)
        let lineEnds = plausible ? ["\r\n"] : Self.lineEnds
        let separators = plausible ? [": ", ":", ": \t"] : Self.separators
        var text = pick(plausible ? ["GET", "POST", "HEAD"] : methods, &rng) + (Int.random(in: 0..<12, using: &rng) == 0 ? "  " : " ")
            + pick(plausible ? ["/t/a?b=c"] : targets, &rng) + " " + pick(plausible ? ["HTTP/1.1"] : versions, &rng) + pick(lineEnds, &rng)
        if !plausible, Int.random(in: 0..<15, using: &rng) == 0 { text += " X-Fold: a\r\n" }
        // Most heads have a Host, as most requests do, so that the fast path takes some.
        if Int.random(in: 0..<4, using: &rng) != 0 { text += "Host: a.example\r\n" }
        for _ in 0..<Int.random(in: 0...10, using: &rng) {
            let (name, values) = pick(fields, &rng)
            text += name + pick(separators, &rng) + pick(values, &rng) + pick(lineEnds, &rng)
            if !plausible, Int.random(in: 0..<25, using: &rng) == 0 { text += "\t folded\r\n" }
        }
        switch plausible ? 9 : Int.random(in: 0..<10, using: &rng) {
        case 0: break
        case 1: text += "\n"
        default: text += "\r\n"
        }
        if Bool.random(using: &rng) { text += pick(["hello", "0\r\n\r\n", "GET /x HTTP/1.1\r\nHost: y\r\n\r\n"], &rng) }
        var bytes = Array(text.utf8)
        // Now and then, bytes spliced in anywhere: controls, delimiters, anything.
        for _ in 0..<(!plausible && Int.random(in: 0..<3, using: &rng) == 0 ? Int.random(in: 1...3, using: &rng) : 0) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            let byte = pick([0, 9, 10, 11, 13, 32, 58, 127, 255, UInt8.random(in: 0...255, using: &rng)], &rng)
            if Bool.random(using: &rng) { bytes[at] = byte } else { bytes.insert(byte, at: at) }
        }
        return bytes
    }
}

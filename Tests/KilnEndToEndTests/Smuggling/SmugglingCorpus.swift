/// Malformed and smuggling requests, each with what RFC 9110/9112 lets the proxy do with it.
/// `T` is the tool's path; every case sends a User-Agent but where the case is about fields.
struct SmugglingCase: Sendable, CustomStringConvertible {
    enum Expected: Sendable {
        /// 4xx (or 5xx of the proxy's own), or the connection closed; nothing whole forwarded.
        case refused
        /// Either refused, or forwarded as one well-framed request and answered by the backend.
        case refusedOrForwarded
    }

    var name: String
    var bytes: [UInt8]
    var expected: Expected

    var description: String { name }

    init(_ name: String, _ text: String, _ expected: Expected) {
        self.name = name
        bytes = Array(text.utf8)
        self.expected = expected
    }

    init(_ name: String, bytes: [UInt8], _ expected: Expected) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }

    static func corpus(tool: String) -> [SmugglingCase] {
        let target = "/\(tool)/c"
        let ua = "User-Agent: corpus\r\n"
        let post = "POST \(target) HTTP/1.1\r\nHost: x\r\n\(ua)"
        let get = "GET \(target) HTTP/1.1\r\n"
        let chunkedHello = "5\r\nhello\r\n0\r\n\r\n"
        let longValue = String(repeating: "a", count: 100_000)
        let manyFields = String(repeating: "X-N: 1\r\n", count: 20_000)
        return [
            // §6.3 ¶3: both framings is smuggling's classic; the server MAY reject, and a proxy
            // that forwards must drop Content-Length. Refusing leaves nothing to disagree on.
            .init("CL+TE", post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", .refused),
            .init("TE+CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n" + chunkedHello, .refused),
            // §6.3 ¶4: chunked not last in a request: 400 and close.
            .init("TE chunked, identity", post + "Transfer-Encoding: chunked, identity\r\n\r\n" + chunkedHello, .refused),
            // OWS around a value is not part of it (§5.5): this is chunked, framed as such or refused.
            .init("TE leading space", post + "Transfer-Encoding:  chunked\r\n\r\n" + chunkedHello, .refusedOrForwarded),
            .init("TE trailing tab", post + "Transfer-Encoding: chunked\t\r\n\r\n" + chunkedHello, .refusedOrForwarded),
            // Not chunked (§6.3 ¶4), whatever a substring match says.
            .init("TE xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n" + chunkedHello, .refused),
            // VT is no whitespace (§5.6.3) but a control: an invalid value, never chunked.
            .init("TE vertical tab", post + "Transfer-Encoding:\u{0B}chunked\r\n\r\n" + chunkedHello, .refused),
            // Two lines are one list, "chunked, chunked" (§5.3): chunked applied twice, which no
            // sender may do (§7.1); at most forwarded framed once.
            .init("TE twice", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedHello, .refusedOrForwarded),
            // "identity, chunked": chunked is last, so the body is chunked (§6.3 ¶4); identity (no
            // longer registered) changes no byte. Re-framed once, or refused (§6.1: SHOULD 501).
            .init("TE identity then chunked", post + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedHello, .refusedOrForwarded),
            // §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty (an HTTP/1.0 hop
            // could not have framed it): never forwarded as chunked.
            .init("TE in HTTP/1.0", "POST \(target) HTTP/1.0\r\nHost: x\r\n\(ua)Transfer-Encoding: chunked\r\n\r\n" + chunkedHello, .refused),
            // §6.3 ¶5: differing lengths are unrecoverable: 400 and close.
            .init("CL twice, differing", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", .refused),
            // §6.3 ¶5: the same length repeated MAY be taken as one.
            .init("CL twice, same", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", .refusedOrForwarded),
            .init("CL list, same", post + "Content-Length: 5, 5\r\n\r\nhello", .refusedOrForwarded),
            // §8.6: Content-Length = 1*DIGIT; anything else is invalid framing (§6.3 ¶5).
            .init("CL +5", post + "Content-Length: +5\r\n\r\nhello", .refused),
            .init("CL -5", post + "Content-Length: -5\r\n\r\nhello", .refused),
            .init("CL hex", post + "Content-Length: 0x5\r\n\r\nhello", .refused),
            .init("CL overflow", post + "Content-Length: 99999999999999999999999\r\n\r\nhello", .refused),
            .init("CL with a space", post + "Content-Length: 5 5\r\n\r\nhello", .refused),
            .init("CL empty", post + "Content-Length: \r\n\r\nhello", .refused),
            // §7.1: chunk-size = 1*HEXDIG; a size that is not one makes the body unreadable.
            .init("chunk size not hex", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", .refused),
            .init("chunk size negative", post + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", .refused),
            .init("chunk size overflow", post + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n", .refused),
            .init("chunk size 0x", post + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", .refused),
            .init("chunk without CRLF", post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", .refused),
            // §7.1.1: extensions are allowed and a recipient ignores those it does not know.
            .init("chunk extension", post + "Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n", .refusedOrForwarded),
            .init("chunk extension quoted", post + "Transfer-Encoding: chunked\r\n\r\n5;n=\"a;b\\\"c\"\r\nhello\r\n0\r\n\r\n", .refusedOrForwarded),
            .init("chunk extension long", post + "Transfer-Encoding: chunked\r\n\r\n5;" + longValue + "\r\nhello\r\n0\r\n\r\n", .refusedOrForwarded),
            // §5.5: NUL, CR and LF are never allowed in a field; a bare CR must be refused or
            // replaced (§2.2); a bare LF MAY end a line, but is then never forwarded bare.
            .init("NUL in a name", bytes: Array((get + "Host: x\r\n\(ua)X-A").utf8) + [0] + Array("b: 1\r\n\r\n".utf8), .refused),
            .init("NUL in a value", bytes: Array((get + "Host: x\r\n\(ua)X-A: a").utf8) + [0] + Array("b\r\n\r\n".utf8), .refused),
            .init("bare CR in a value", get + "Host: x\r\n\(ua)X-A: a\rContent-Length: 5\r\n\r\nhello", .refused),
            .init("bare CR in a name", get + "Host: x\r\n\(ua)X-\rA: 1\r\n\r\n", .refused),
            .init("bare LF ends a field line", get + "Host: x\r\n\(ua)X-A: a\nContent-Length: 5\r\n\r\nhello", .refusedOrForwarded),
            .init("bare LF in the request line", "GET \(target) HTTP/1.1\nHost: x\r\n\(ua)\r\n", .refusedOrForwarded),
            // §5.2: obs-fold in a request: 400, or each fold replaced by SP before forwarding.
            .init("obs-fold", get + "Host: x\r\n\(ua)X-A: a\r\n b\r\n\r\n", .refusedOrForwarded),
            .init("obs-fold onto Transfer-Encoding", post + "Transfer-Encoding: identity\r\n chunked\r\n\r\n" + chunkedHello, .refused),
            // §2.2: whitespace before the first field: refuse, or drop that line unread.
            .init("space before the first field", get + " Host: y\r\nHost: x\r\n\(ua)\r\n", .refusedOrForwarded),
            // Limits (§3, §5.4): 414/431 or 400.
            .init("over-long request line", "GET /\(tool)/" + longValue + " HTTP/1.1\r\nHost: x\r\n\(ua)\r\n", .refused),
            .init("over-long field line", get + "Host: x\r\n\(ua)X-Long: " + longValue + "\r\n\r\n", .refused),
            .init("too many fields", get + "Host: x\r\n\(ua)" + manyFields + "\r\n", .refused),
            // HTTP/0.9 has no head, so no Host and no framing: nothing to route by. Its one line
            // is an unfinished HTTP/1 head (408 at the header timeout); with a blank line, a head
            // without a version (400).
            .init("HTTP/0.9", "GET \(target)\r\n", .refused),
            .init("HTTP/0.9 and a blank line", "GET \(target)\r\n\r\n", .refused),
            // §3.2.2: absolute-form names the host; the Host field is then ignored. The backend must
            // not be handed a host other than the one the request was routed by.
            .init("absolute-form", "GET http://other\(target) HTTP/1.1\r\nHost: x\r\n\(ua)\r\n", .refusedOrForwarded),
            .init("absolute-form naming another tool", "GET http://x/othertool/c HTTP/1.1\r\nHost: x\r\n\(ua)\r\n", .refusedOrForwarded),
            // Host names this tool, the target another: routed by the Host, the backend would
            // read the other (§3.2.2). Routed by the target, it finds no such tool.
            .init("absolute-form against Host", "GET http://othertool.localhost/c HTTP/1.1\r\nHost: \(tool).localhost\r\n\(ua)\r\n", .refused),
            .init("absolute-form naming the tool", "GET http://\(tool).localhost/c HTTP/1.1\r\nHost: other.localhost\r\n\(ua)\r\n", .refusedOrForwarded),
            .init("absolute-form with userinfo", "GET http://u@\(tool).localhost/c HTTP/1.1\r\nHost: \(tool).localhost\r\n\(ua)\r\n", .refused),
            // §9.3.6: CONNECT is for proxies; this one is not a forward proxy.
            .init("CONNECT", "CONNECT other:443 HTTP/1.1\r\nHost: other:443\r\n\(ua)\r\n", .refused),
            // §3.2: a missing, repeated or invalid Host in HTTP/1.1: 400.
            .init("Host with a space", get + "Host: a b\r\n\(ua)\r\n", .refused),
            .init("Host with userinfo", get + "Host: user@\(tool).localhost\r\n\(ua)\r\n", .refused),
            .init("Host with a bad port", get + "Host: x:http\r\n\(ua)\r\n", .refused),
            .init("Host missing", get + "\(ua)\r\n", .refused),
            .init("Host twice", get + "Host: x\r\nHost: y\r\n\(ua)\r\n", .refused),
            .init("Host empty twice", get + "Host:\r\nHost: x\r\n\(ua)\r\n", .refused),
            // §5.1: whitespace between name and colon: 400.
            .init("space before the colon", get + "Host : x\r\n\(ua)\r\n", .refused),
            .init("space before the colon of TE", post + "Transfer-Encoding : chunked\r\n\r\n" + chunkedHello, .refused),
            // §9.1: methods are case-sensitive tokens: "get" is just an unknown one.
            .init("lower-case method", "get \(target) HTTP/1.1\r\nHost: x\r\n\(ua)\r\n", .refusedOrForwarded),
            .init("method not a token", "G@T \(target) HTTP/1.1\r\nHost: x\r\n\(ua)\r\n", .refused),
            // §3: a recipient MAY split the request line on whitespace; then forwarded re-made.
            .init("two spaces after the method", "GET  \(target) HTTP/1.1\r\nHost: x\r\n\(ua)\r\n", .refusedOrForwarded),
            .init("space in the target", "GET /\(tool)/a b HTTP/1.1\r\nHost: x\r\n\(ua)\r\n", .refused),
            .init("unknown version", "GET \(target) HTTP/1.7\r\nHost: x\r\n\(ua)\r\n", .refusedOrForwarded),
            // §10.1.1: 100-continue is the client's business with whoever reads the body.
            .init("Expect 100-continue with the body", post + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", .refusedOrForwarded),
            .init("Expect 100-continue without a body", get + "Host: x\r\n\(ua)Expect: 100-continue\r\n\r\n", .refusedOrForwarded),
            .init("Expect other", get + "Host: x\r\n\(ua)Expect: 200-ok\r\n\r\n", .refusedOrForwarded),
            // Behind a good request on one connection (the fast path's, which then hands the
            // connection over): the good one is forwarded alone, what follows is refused.
            .init("CL+TE pipelined after a good request", get + "Host: x\r\n\(ua)\r\n" + post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", .refusedOrForwarded),
            .init("bad Host pipelined after a good request", get + "Host: x\r\n\(ua)\r\n" + get + "Host: a b\r\n\(ua)\r\n", .refusedOrForwarded),
            // A body framed by Content-Length that holds a request is a body, not a second request.
            .init("a request inside a GET's body", get + "Host: x\r\n\(ua)Content-Length: 42\r\n\r\nGET /admin/ HTTP/1.1\r\nHost: y\r\nX: 1234\r\n\r\n", .refusedOrForwarded),
        ]
    }
}

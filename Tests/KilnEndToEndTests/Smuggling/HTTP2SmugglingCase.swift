import Foundation

/// Malformed HTTP/2 requests (RFC 9113 §8.1.1, §8.2, §8.3), each sent on a stream of its own by
/// an h2 client whose own checks are off, with what the proxy may do: a request the RFC calls
/// malformed must be refused (a stream error, or a 4xx), and never reach a backend as an HTTP/1
/// request that frames or routes differently.
struct HTTP2SmugglingCase: Sendable, CustomStringConvertible {
    var name: String
    var headers: [(String, String)]
    var data: [String]
    var trailers: [(String, String)]?
    var expected: SmugglingCase.Expected

    var description: String { name }

    /// The JSON h2_client.py reads, base64 encoded for its command line.
    var argument: String {
        let object: [String: Any] = [
            "headers": headers.map { [$0.0, $0.1] }, "data": data.map { Data($0.utf8).base64EncodedString() },
            "trailers": trailers.map { $0.map { [$0.0, $0.1] } } as Any,
        ]
        // Latin-1 only in names and values, so JSON and the client's decoding agree.
        let json = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return json.base64EncodedString()
    }

    static func corpus(tool: String) -> [HTTP2SmugglingCase] {
        let path = "/\(tool)/c"
        func get(_ extra: [(String, String)] = [], path: String = path) -> [(String, String)] {
            [(":method", "GET"), (":scheme", "https"), (":authority", "x"), (":path", path), ("user-agent", "corpus")] + extra
        }
        func post(_ extra: [(String, String)]) -> [(String, String)] {
            [(":method", "POST"), (":scheme", "https"), (":authority", "x"), (":path", path), ("user-agent", "corpus")] + extra
        }
        func make(_ name: String, _ headers: [(String, String)], data: [String] = [], trailers: [(String, String)]? = nil, _ expected: SmugglingCase.Expected)
            -> HTTP2SmugglingCase
        {
            HTTP2SmugglingCase(name: name, headers: headers, data: data, trailers: trailers, expected: expected)
        }
        return [
            make("well-formed POST", post([("content-length", "5")]), data: ["hello"], .refusedOrForwarded),
            make("body without content-length", post([]), data: ["hel", "lo"], .refusedOrForwarded),
            // §8.1.1: a content-length that the DATA frames do not add up to is malformed.
            make("content-length above the data", post([("content-length", "10")]), data: ["hello"], .refused),
            make("content-length below the data", post([("content-length", "3")]), data: ["hello"], .refused),
            make("two content-lengths", post([("content-length", "5"), ("content-length", "6")]), data: ["hello"], .refused),
            make("signed content-length", post([("content-length", "+5")]), data: ["hello"], .refused),
            // §8.2.2: connection-specific fields are malformed; a proxy passing transfer-encoding on
            // to HTTP/1 would let the body be framed twice.
            make("transfer-encoding", post([("transfer-encoding", "chunked")]), data: ["5\r\nhello\r\n0\r\n\r\n"], .refused),
            make("connection", get([("connection", "keep-alive")]), .refused),
            make("keep-alive", get([("keep-alive", "timeout=5")]), .refused),
            make("upgrade", get([("upgrade", "websocket")]), .refused),
            make("proxy-connection", get([("proxy-connection", "keep-alive")]), .refused),
            make("te other than trailers", get([("te", "gzip")]), .refused),
            make("te: trailers", get([("te", "trailers")]), .refusedOrForwarded),
            // §8.2.1: field names are lowercase tokens; values hold no CR, LF or NUL.
            make("uppercase name", get([("X-Upper", "1")]), .refused),
            make("space in a name", get([("x a", "1")]), .refused),
            make("colon in a name", get([("x:a", "1")]), .refused),
            make("CR LF in a value", get([("x-a", "b\r\nx-injected: 1")]), .refused),
            make("LF in a value", get([("x-a", "b\nhost: evil")]), .refused),
            make("NUL in a value", get([("x-a", "b\u{0}c")]), .refused),
            make("empty name", get([("", "v")]), .refused),
            // §8.3: pseudo-headers exactly once, first, and only those defined.
            make("no :path", get().filter { $0.0 != ":path" }, .refused),
            make("no :method", get().filter { $0.0 != ":method" }, .refused),
            make("two :path", get([(":path", "/other/")]), .refused),
            make("pseudo-header after a field", [(":method", "GET"), (":scheme", "https"), ("user-agent", "corpus"), (":authority", "x"), (":path", path)], .refused),
            make("unknown pseudo-header", get([(":proto", "x")]), .refused),
            make("response pseudo-header", get([(":status", "200")]), .refused),
            make(":path not origin-form", get(path: "http://evil\(path)"), .refused),
            make("empty :path", get(path: ""), .refused),
            make("CONNECT", [(":method", "CONNECT"), (":authority", "127.0.0.1:22"), ("user-agent", "corpus")], .refused),
            make("host beside :authority", get([("host", "evil")]), .refusedOrForwarded),
            make("pseudo-header in trailers", post([]), data: ["hello"], trailers: [(":path", "/evil")], .refused),
        ]
    }
}

import NIOHTTP1

/// Refuses ambiguous framing, the root of request smuggling: the proxy re-frames every request it
/// forwards, and anything a backend might read differently from the proxy is rejected with 400.
enum RequestFraming {
    static func problem(_ head: HTTPRequestHead) -> String? {
        let lengths = head.headers[canonicalForm: "content-length"]
        let encodings = head.headers[canonicalForm: "transfer-encoding"]
        if !lengths.isEmpty && !encodings.isEmpty { return "both Content-Length and Transfer-Encoding" }
        // RFC 9112 §6.1: no HTTP/1.0 hop could have framed it so; the framing is faulty.
        if !encodings.isEmpty && head.version == .http1_0 { return "Transfer-Encoding in HTTP/1.0" }
        // RFC 9112 §3.2: one valid Host, and in HTTP/1.1 always one (an HTTP/2 stream's is its
        // :authority). The proxy routes by it: the backend must not read another.
        let hosts = head.headers["host"]
        if hosts.count > 1 { return "more than one Host" }
        if hosts.isEmpty && head.version == .http1_1 { return "no Host" }
        if let host = hosts.first, !HostSyntax.isValid(host.trimmingOWS) { return "invalid Host" }
        if let first = lengths.first {
            if lengths.contains(where: { $0 != first }) { return "conflicting Content-Length values" }
            guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return "invalid Content-Length" }
        }
        if !encodings.isEmpty {
            guard encodings.last?.lowercased() == "chunked" else { return "Transfer-Encoding must end with chunked" }
        }
        return nil
    }

    /// RFC 9112 §3.2.2: a target in absolute-form names the host, and the Host field is then
    /// ignored. Routed by Host, the backend (which reads the target) could see another host than
    /// the one the proxy chose the tool by: the head is rewritten to origin-form with the
    /// target's authority as its only Host. Returns the problem when that authority is invalid
    /// (userinfo, an empty or bad host); nil when the head is fine as it now is.
    static func toOriginForm(_ head: inout HTTPRequestHead) -> String? {
        let uri = head.uri.utf8
        let schemeLength: Int
        if uri.starts(with: "http://".utf8, by: { $0 | 0x20 == $1 | 0x20 }) {
            schemeLength = 7
        } else if uri.starts(with: "https://".utf8, by: { $0 | 0x20 == $1 | 0x20 }) {
            schemeLength = 8
        } else {
            return nil
        }
        let rest = uri.dropFirst(schemeLength)
        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        let authority = String(Substring(rest[..<authorityEnd]))
        guard !authority.isEmpty, HostSyntax.isValid(authority) else { return "invalid authority in the request target" }
        let path = String(Substring(rest[authorityEnd...]))
        head.uri = path.hasPrefix("/") ? path : "/" + path
        head.headers.replaceOrAdd(name: "Host", value: authority)
        return nil
    }

    /// RFC 9113 §8.3.1: an HTTP/2 request's `:path` is origin-form (or `*` for OPTIONS); any
    /// other is malformed, and its authority could disagree with `:authority`, so it is refused
    /// rather than rewritten as HTTP/1's absolute-form is.
    static func http2TargetProblem(_ head: HTTPRequestHead) -> String? {
        if head.uri.utf8.first == UInt8(ascii: "/") || (head.method == .OPTIONS && head.uri == "*") { return nil }
        return "an HTTP/2 :path must begin with /"
    }

    static func isChunked(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "transfer-encoding"].last?.lowercased() == "chunked"
    }

    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if isChunked(head) { return true }
        if let length = head.headers.first(name: "content-length"), let value = Int(length) { return value > 0 }
        return false
    }
}

extension String {
    /// Without the optional whitespace (space, tab) that surrounds a field value (RFC 9110 §5.5).
    var trimmingOWS: String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
            let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })
        else { return "" }
        return String(Substring(bytes[first...last]))
    }
}

/// Where the proxy sends a request it redirects.
enum RedirectTarget {
    /// The tool's own origin for a request that named it by path: always HTTPS, on the proxy's
    /// HTTPS port as the HTTP→HTTPS redirect does (none when that is 443, or when TLS ends in
    /// front of the proxy).
    static func toolOrigin(tool: String, target: String, domain: String, httpsPort: Int?) -> String {
        "https://" + host(tool + "." + domain, httpsPort: httpsPort) + target
    }

    /// A plain-HTTP request's host on HTTPS.
    static func host(_ hostHeader: String, httpsPort: Int?) -> String {
        var name = Substring(hostHeader)
        if name.hasPrefix("[") {
            if let close = name.firstIndex(of: "]") { name = name[...close] }
        } else if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        guard let port = httpsPort, port != 443 else { return String(name) }
        return "\(name):\(port)"
    }
}

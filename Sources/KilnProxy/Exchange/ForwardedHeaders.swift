import NIOHTTP1

/// Header rewriting between the client and the backend (RFC 9110 §7.6.1): hop-by-hop fields stop
/// at the proxy, framing is the proxy's own, and the backend learns who asked and how.
enum ForwardedHeaders {
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// The request head as the backend gets it.
    static func requestHead(
        _ head: HTTPRequestHead, clientAddress: String, scheme: String, hasBody: Bool, chunked: Bool
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 5)
        let isUpgrade = isWebSocketUpgrade(head)
        let connectionTokens = connectionOptions(head.headers)
        var forwardedFor: String?
        var host: String?
        for (name, value) in head.headers {
            // Most headers are none of these: classify by length first, lower-case only on a hit.
            guard let lower = connectionTokens.isEmpty ? HeaderNames.interesting(name) : name.lowercased() else {
                headers.add(name: name, value: value)
                continue
            }
            if hopByHop.contains(lower) || connectionTokens.contains(lower) { continue }
            switch lower {
            case "x-forwarded-for": forwardedFor = forwardedFor.map { "\($0), \(value)" } ?? value
            case "x-forwarded-proto", "x-forwarded-host", "x-original-uri": continue
            case "host":
                host = value
                headers.add(name: name, value: value)
            case "content-length":
                if hasBody && !chunked { headers.add(name: name, value: value) }
            default: headers.add(name: name, value: value)
            }
        }
        headers.add(name: "X-Forwarded-For", value: forwardedFor.map { "\($0), \(clientAddress)" } ?? clientAddress)
        headers.add(name: "X-Forwarded-Proto", value: scheme)
        if let host { headers.add(name: "X-Forwarded-Host", value: host) }
        headers.add(name: "X-Original-URI", value: head.uri)
        if chunked { headers.add(name: "Transfer-Encoding", value: "chunked") }
        if isUpgrade {
            headers.add(name: "Connection", value: "Upgrade")
            headers.add(name: "Upgrade", value: head.headers.first(name: "upgrade") ?? "websocket")
        }
        var forwarded = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
        if head.version.major == 2 { forwarded.version = .http1_1 }
        return forwarded
    }

    /// The response head as the client gets it; the encoder adds the framing it needs.
    static func responseHead(_ head: HTTPResponseHead, keepAlive: Bool, upgrade: Bool = false) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 1)
        let connectionTokens = connectionOptions(head.headers)
        for (name, value) in head.headers {
            if let lower = connectionTokens.isEmpty ? HeaderNames.interesting(name) : name.lowercased(),
                hopByHop.contains(lower) || connectionTokens.contains(lower)
            {
                continue
            }
            headers.add(name: name, value: value)
        }
        if upgrade {
            headers.add(name: "Connection", value: "Upgrade")
            if let protocolName = head.headers.first(name: "upgrade") { headers.add(name: "Upgrade", value: protocolName) }
        } else if !keepAlive {
            headers.add(name: "Connection", value: "close")
        }
        return HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
    }

    static func connectionOptions(_ headers: HTTPHeaders) -> Set<String> {
        var tokens: Set<String> = []
        guard headers.contains(name: "connection") else { return tokens }
        for value in headers[canonicalForm: "connection"] {
            let token = value.lowercased()
            if token != "close" && token != "keep-alive" && token != "upgrade" { tokens.insert(token) }
        }
        return tokens
    }

    static func isWebSocketUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard let upgrade = head.headers.first(name: "upgrade"), upgrade.lowercased().contains("websocket") else {
            return false
        }
        return head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }
}

/// Header names the proxy acts on, recognised without allocating for the many it does not.
enum HeaderNames {
    static let lengths: Set<Int> = Set(
        (ForwardedHeaders.hopByHop.union(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-original-uri",
            "host", "content-length"])).map(\.utf8.count))

    /// The lower-cased name when it may be one of interest (or a Connection option), else nil.
    static func interesting(_ name: String) -> String? {
        let count = name.utf8.count
        guard lengths.contains(count) || count > 19 else { return nil }
        return name.lowercased()
    }
}

/// Why the proxy turned a client away before forwarding anything, for
/// `kiln_proxy_refused_total{reason}`. Counted with `LoopMetrics.refused(_:)`.
public enum ProxyRefusal: Int, CaseIterable, Sendable, Hashable {
    /// A request answered 429 by a rate limit (per tool or per client address).
    case rateLimited
    /// A connection closed at once because a cap on open connections (per client address or in
    /// all) was reached.
    case connectionLimit
    /// A connection closed because it pipelined more requests at once than the proxy holds.
    case pipelining

    public var label: String {
        switch self {
        case .rateLimited: "rate_limited"
        case .connectionLimit: "connection_limit"
        case .pipelining: "pipelining"
        }
    }
}

/// The backends serving one pattern of a tool (a webservice's replicas), in registration order,
/// each at most once. Never empty.
public struct BackendGroup: Sendable, Hashable {
    public private(set) var backends: [HostPort]

    /// Keeps the first occurrence of each backend; nil when there are none.
    public init?(_ backends: [HostPort]) {
        var unique: [HostPort] = []
        unique.reserveCapacity(backends.count)
        for backend in backends where !unique.contains(backend) { unique.append(backend) }
        guard !unique.isEmpty else { return nil }
        self.backends = unique
    }

    public init(_ backend: HostPort) {
        backends = [backend]
    }

    public var count: Int { backends.count }

    /// The only backend when there is exactly one: the proxy then skips balancing altogether.
    public var single: HostPort? { backends.count == 1 ? backends[0] : nil }

    public var first: HostPort { backends[0] }

    /// Adds `backend` at the end unless it is already there.
    mutating func append(_ backend: HostPort) {
        if !backends.contains(backend) { backends.append(backend) }
    }
}

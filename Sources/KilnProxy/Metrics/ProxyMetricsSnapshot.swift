/// The proxy's metrics at one scrape: every loop's counters added up, and the gauges read then.
public struct ProxyMetricsSnapshot: Sendable, Equatable {
    /// One tool's requests (all loops' together).
    public struct ToolRequests: Sendable, Equatable {
        /// Indexed by `StatusClass.rawValue`.
        public var byStatusClass: [Int]
        /// Indexed like `RequestDurationBuckets` (+Inf last); not cumulative.
        public var durationBuckets: [Int]
        public var durationNanoseconds: UInt64

        public var count: Int { byStatusClass.reduce(0, +) }

        public init(
            byStatusClass: [Int] = [Int](repeating: 0, count: StatusClass.allCases.count),
            durationBuckets: [Int] = [Int](repeating: 0, count: RequestDurationBuckets.count), durationNanoseconds: UInt64 = 0
        ) {
            self.byStatusClass = byStatusClass
            self.durationBuckets = durationBuckets
            self.durationNanoseconds = durationNanoseconds
        }

        public func count(_ statusClass: StatusClass) -> Int { byStatusClass[statusClass.rawValue] }

        mutating func add(_ other: ToolRequests) {
            for index in byStatusClass.indices { byStatusClass[index] += other.byStatusClass[index] }
            for index in durationBuckets.indices { durationBuckets[index] += other.durationBuckets[index] }
            durationNanoseconds &+= other.durationNanoseconds
        }
    }

    /// The `tool` label of requests no tool's route took. Tool names are lowercase letters,
    /// digits and dashes, so no tool is called this.
    public static let unroutedTool = "-"

    public var requests: [String: ToolRequests] = [:]
    public var upstreamConnectFailures = 0
    public var upstreamConnectTimeouts = 0
    public var upstreamResponseTimeouts = 0
    /// Indexed by `ProxyRefusal.rawValue`.
    public var refusals = [Int](repeating: 0, count: ProxyRefusal.allCases.count)
    public var openConnections = 0
    public var routeTableVersion: UInt64 = 0
    /// Since the route table last changed (or since the proxy started, before any change).
    public var routeTableAge: Duration = .zero

    public init() {}

    public func refusals(_ reason: ProxyRefusal) -> Int { refusals[reason.rawValue] }

    /// Adds another loop's counters (the gauges are the proxy's, set once).
    mutating func add(_ loop: ProxyMetricsSnapshot) {
        for (tool, counts) in loop.requests { requests[tool, default: ToolRequests()].add(counts) }
        upstreamConnectFailures += loop.upstreamConnectFailures
        upstreamConnectTimeouts += loop.upstreamConnectTimeouts
        upstreamResponseTimeouts += loop.upstreamResponseTimeouts
        for index in refusals.indices { refusals[index] += loop.refusals[index] }
    }
}

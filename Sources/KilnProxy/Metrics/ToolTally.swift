/// One event loop's counts of one tool's requests: by status class, and their durations as a
/// histogram. Owned by its loop's `LoopMetrics`; requests of the same tool on one connection keep
/// a reference to it, so the hot path finds it without a lookup.
final class ToolTally {
    private(set) var byStatusClass = [Int](repeating: 0, count: StatusClass.allCases.count)
    /// Not cumulative: the count of durations that fell in each bucket.
    private(set) var durationBuckets = [Int](repeating: 0, count: RequestDurationBuckets.count)
    private(set) var durationNanoseconds: UInt64 = 0

    func record(status: UInt, nanoseconds: UInt64) {
        byStatusClass[StatusClass(status: status).rawValue] += 1
        durationBuckets[RequestDurationBuckets.index(of: nanoseconds)] += 1
        // A sum of durations wraps only after centuries of requests; it must not trap.
        durationNanoseconds &+= nanoseconds
    }

    var snapshot: ProxyMetricsSnapshot.ToolRequests {
        .init(byStatusClass: byStatusClass, durationBuckets: durationBuckets, durationNanoseconds: durationNanoseconds)
    }
}

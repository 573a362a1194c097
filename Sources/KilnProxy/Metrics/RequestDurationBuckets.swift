/// The upper bounds of `kiln_proxy_request_duration_seconds`' buckets, in nanoseconds so that a
/// request's duration is placed without a conversion; the last, implicit bucket is +Inf.
public enum RequestDurationBuckets {
    public static let upperBoundsNanoseconds: [UInt64] = [
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000,
        500_000_000, 1_000_000_000, 2_500_000_000, 5_000_000_000, 10_000_000_000, 30_000_000_000, 60_000_000_000,
    ]

    /// Buckets counted, with +Inf.
    public static var count: Int { upperBoundsNanoseconds.count + 1 }

    /// The bucket (not cumulative) a duration falls in.
    static func index(of nanoseconds: UInt64) -> Int {
        var index = 0
        for bound in upperBoundsNanoseconds {
            if nanoseconds <= bound { return index }
            index += 1
        }
        return index
    }
}

/// Totals of users' sizes (replicas × memory, summed over jobs) saturate instead of trapping:
/// the maximum is far above any quota, so a saturated total is refused like any other too large.
extension MemorySize {
    public static let zero = MemorySize(bytes: 0)

    public static func + (lhs: MemorySize, rhs: MemorySize) -> MemorySize {
        let (sum, overflow) = lhs.bytes.addingReportingOverflow(rhs.bytes)
        return MemorySize(bytes: overflow ? (rhs.bytes < 0 ? .min : .max) : sum)
    }

    /// `count` of this; a negative amount or count is none, so a total only grows.
    public func times(_ count: Int) -> MemorySize {
        let (product, overflow) = max(0, bytes).multipliedReportingOverflow(by: Int64(max(0, count)))
        return MemorySize(bytes: overflow ? .max : product)
    }
}

/// Totals of users' CPU amounts saturate instead of trapping, as memory's do.
extension CPUQuantity {
    public static let zero = CPUQuantity(millicores: 0)

    public static func + (lhs: CPUQuantity, rhs: CPUQuantity) -> CPUQuantity {
        let (sum, overflow) = lhs.millicores.addingReportingOverflow(rhs.millicores)
        return CPUQuantity(millicores: overflow ? (rhs.millicores < 0 ? .min : .max) : sum)
    }

    /// `count` of this (a negative count is none).
    public func times(_ count: Int) -> CPUQuantity {
        let (product, overflow) = millicores.multipliedReportingOverflow(by: max(0, count))
        return CPUQuantity(millicores: overflow ? (millicores < 0 ? .min : .max) : product)
    }
}

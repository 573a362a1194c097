/// Totals of users' CPU amounts saturate instead of trapping, as memory's do.
extension CPUQuantity {
    public static let zero = CPUQuantity(millicores: 0)

    public static func + (lhs: CPUQuantity, rhs: CPUQuantity) -> CPUQuantity {
        let (sum, overflow) = lhs.millicores.addingReportingOverflow(rhs.millicores)
        return CPUQuantity(millicores: overflow ? (rhs.millicores < 0 ? .min : .max) : sum)
    }

    /// `count` of this; a negative amount or count is none, so a total only grows.
    public func times(_ count: Int) -> CPUQuantity {
        let (product, overflow) = max(0, millicores).multipliedReportingOverflow(by: max(0, count))
        return CPUQuantity(millicores: overflow ? .max : product)
    }
}

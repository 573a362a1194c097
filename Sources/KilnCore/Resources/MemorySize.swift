/// An amount of memory as users write it in `service.template`, `jobs.yaml` and flags: plain
/// bytes, binary suffixes (`512Mi`, `1.5Gi`) or decimal ones (`500M`, `1G`). Never more than
/// `maximum` nor negative, however it was made from a user's input (text or JSON); what users
/// declare is at least a byte (totals may be none).
public struct MemorySize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    /// The most any declaration may ask for: far above any quota, far below where sums of a few
    /// thousand of them could overflow.
    public static let maximum = MemorySize(bytes: 1 << 40)
    /// What JSON may carry: totals of nothing are zero.
    public static let validBytes: ClosedRange<Int64> = 0...maximum.bytes

    public init(bytes: Int64) { self.bytes = bytes }

    static let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1024 * 1024), ("Gi", 1024 * 1024 * 1024), ("Ti", 1024 * 1024 * 1024 * 1024),
        ("K", 1000), ("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
    ]

    public init(parsing text: String) throws(KilnError) {
        let trimmed = text.trimmingWhitespace()
        var number = Substring(trimmed)
        var multiplier = 1.0
        for (suffix, value) in Self.suffixes where trimmed.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            multiplier = value
            break
        }
        // Checked as a Double first: only a value known to be in range is converted.
        guard let value = Double(number), value.isFinite, value > 0, value * multiplier >= 1 else {
            throw KilnError(
                .invalidQuantity, "invalid memory size '\(text)': use bytes or a suffix, as in 512Mi or 1Gi",
                context: ["value": text])
        }
        let amount = (value * multiplier).rounded(.up)
        guard amount <= Double(Self.maximum.bytes), let bytes = Int64(exactly: amount) else {
            throw Self.outOfRange(text)
        }
        self.bytes = bytes
    }

    static func outOfRange(_ text: String, field: String? = nil) -> KilnError {
        var context = ["value": text]
        context["field"] = field
        let location = field.map { "field '\($0)': " } ?? ""
        return KilnError(
            .invalidQuantity, location + "memory size '\(text)' is out of range: at most \(maximum) and not negative",
            context: context)
    }

    public static func < (lhs: MemorySize, rhs: MemorySize) -> Bool { lhs.bytes < rhs.bytes }

    /// The shortest exact binary form (`512Mi`), else bytes.
    public var description: String {
        for (suffix, unit) in [("Gi", Int64(1) << 30), ("Mi", Int64(1) << 20), ("Ki", Int64(1) << 10)]
        where bytes % unit == 0 {
            return "\(bytes / unit)\(suffix)"
        }
        return "\(bytes)"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

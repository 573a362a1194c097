/// An amount of memory as users write it in `service.template`, `jobs.yaml` and flags: plain
/// bytes, binary suffixes (`512Mi`, `1.5Gi`) or decimal ones (`500M`, `1G`).
public struct MemorySize: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var bytes: Int64

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
        guard let value = Double(number), value.isFinite, value > 0, value * multiplier >= 1 else {
            throw KilnError(
                .invalidQuantity, "invalid memory size '\(text)': use bytes or a suffix, as in 512Mi or 1Gi",
                context: ["value": text])
        }
        bytes = Int64((value * multiplier).rounded(.up))
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

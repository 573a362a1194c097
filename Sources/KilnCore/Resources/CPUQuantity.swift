/// A share of CPU as users write it: cores as a number (`1`, `0.5`, `'1.0'`) or millicores (`500m`).
public struct CPUQuantity: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var millicores: Int

    public init(millicores: Int) { self.millicores = millicores }

    public init(parsing text: String) throws(KilnError) {
        let trimmed = text.trimmingWhitespace()
        let value: Double?
        if trimmed.hasSuffix("m") {
            value = Double(trimmed.dropLast()).map { $0 / 1000 }
        } else {
            value = Double(trimmed)
        }
        guard let value, value.isFinite, value > 0, value <= 1024 else {
            throw KilnError(
                .invalidQuantity, "invalid CPU amount '\(text)': use cores (0.5, 1) or millicores (500m)",
                context: ["value": text])
        }
        millicores = max(1, Int((value * 1000).rounded()))
    }

    public static func < (lhs: CPUQuantity, rhs: CPUQuantity) -> Bool { lhs.millicores < rhs.millicores }

    public var cores: Double { Double(millicores) / 1000 }

    public var description: String {
        millicores % 1000 == 0 ? "\(millicores / 1000)" : millicores % 100 == 0 ? "\(cores)" : "\(millicores)m"
    }
}

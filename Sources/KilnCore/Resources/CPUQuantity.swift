/// A share of CPU as users write it: cores as a number (`1`, `0.5`, `'1.0'`) or millicores (`500m`).
/// Never more than `maximum` nor negative, however it was made from a user's input (text or JSON);
/// what users declare is at least a millicore (totals may be none).
public struct CPUQuantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millicores: Int

    /// The most any declaration may ask for (1024 cores).
    public static let maximum = CPUQuantity(millicores: 1024 * 1000)
    /// What JSON may carry: totals of nothing are zero.
    public static let validMillicores: ClosedRange<Int> = 0...maximum.millicores

    public init(millicores: Int) { self.millicores = millicores }

    public init(parsing text: String) throws(KilnError) {
        let trimmed = text.trimmingWhitespace()
        let value: Double?
        if trimmed.hasSuffix("m") {
            value = Double(trimmed.dropLast()).map { $0 / 1000 }
        } else {
            value = Double(trimmed)
        }
        guard let value, value.isFinite, value > 0 else {
            throw KilnError(
                .invalidQuantity, "invalid CPU amount '\(text)': use cores (0.5, 1) or millicores (500m)",
                context: ["value": text])
        }
        // Checked as a Double first: only a value known to be in range is converted. Less than a
        // millicore is one.
        let amount = (value * 1000).rounded()
        guard amount <= Double(Self.maximum.millicores), let millicores = Int(exactly: amount) else {
            throw Self.outOfRange(text)
        }
        self.millicores = max(1, millicores)
    }

    static func outOfRange(_ text: String, field: String? = nil) -> KilnError {
        var context = ["value": text]
        context["field"] = field
        let location = field.map { "field '\($0)': " } ?? ""
        return KilnError(
            .invalidQuantity, location + "CPU amount '\(text)' is out of range: at most \(maximum) cores and not negative", context: context)
    }

    public static func < (lhs: CPUQuantity, rhs: CPUQuantity) -> Bool { lhs.millicores < rhs.millicores }

    public var cores: Double { Double(millicores) / 1000 }

    public var description: String {
        millicores % 1000 == 0 ? "\(millicores / 1000)" : millicores % 100 == 0 ? "\(cores)" : "\(millicores)m"
    }
}

import KilnCore

/// Memory as jsub took it (`-mem 500m`, `-l h_vmem=1g`): a whole number and a unit, k, m or g,
/// each 1024 times the one before (jsub counted in kilobytes), in either case.
public enum GridMemory {
    /// The most digits worth reading: more can only be out of range, and are refused before any
    /// arithmetic.
    static let maximumDigits = 15

    public static func parse(_ text: String, option: String) throws(KilnError) -> MemorySize {
        func refuse(_ why: String) -> KilnError {
            KilnError(.invalidQuantity, "\(option): \(why)", context: ["field": option, "value": text])
        }
        let scalars = Array(text.unicodeScalars)
        guard let unit = scalars.last, let digits = scalars.dropLast().nonEmptyASCIIDigits,
            let first = digits.first, first != "0"
        else {
            throw refuse("memory value must be an integer followed by 'k', 'm' or 'g': \(text.debugDescriptionPrefix)")
        }
        let shift: Int64
        switch unit {
        case "k", "K": shift = 10
        case "m", "M": shift = 20
        case "g", "G": shift = 30
        default: throw refuse("memory value must be an integer followed by 'k', 'm' or 'g': \(text.debugDescriptionPrefix)")
        }
        let limit = MemorySize.maximum.bytes >> shift
        // Too many digits, or more than the limit: refused before anything is multiplied.
        guard digits.count <= maximumDigits, let amount = Int64(String(String.UnicodeScalarView(digits))), amount <= limit else {
            throw refuse("\(text.debugDescriptionPrefix) is more memory than a job may have (at most \(MemorySize.maximum))")
        }
        return MemorySize(bytes: amount << shift)
    }
}

extension ArraySlice where Element == Unicode.Scalar {
    /// The slice when it is one or more ASCII digits (not other scripts' digits).
    var nonEmptyASCIIDigits: ArraySlice<Unicode.Scalar>? {
        !isEmpty && allSatisfy { $0 >= "0" && $0 <= "9" } ? self : nil
    }
}

extension String {
    /// The text for an error message: at most 64 characters of it, so a hostile value cannot flood one.
    var debugDescriptionPrefix: String { count > 64 ? String(prefix(64)) + "…" : self }
}

import PropertyBased

/// JSON values as a hostile tool sends them in request bodies: numbers at and past every edge,
/// numbers as strings, wrong types, deep nesting.
enum HostileJSON {
    typealias RNG = any SeededRandomNumberGenerator

    static let numbers = [
        "0", "-0", "-1", "1", "16", "17", "1.5", "-0.0", "1e19", "-1e18", "1e308", "-1e308", "1e-400", "1e400",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "1099511627776", "1099511627777", "1024000", "1024001", "65535", "65536", "1023", "86400", "86401",
    ]
    static let junk = [
        "null", "true", "\"NaN\"", "\"nan\"", "\"Infinity\"", "\"1e19\"", "\"-1\"", "\"\"", "[]", "{}", "[1]", "{\"bytes\": null}",
        "\"\\u0000\"", "{\"bytes\": {\"bytes\": 1}}",
    ]

    static func number(_ rng: inout RNG) -> String {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: numbers.randomElement(using: &rng) ?? "0"
        case 1: String(Int64.random(in: .min ... .max, using: &rng))
        case 2: String(Int.random(in: -5...70_000, using: &rng))
        default: String(Double(bitPattern: UInt64.random(in: .min ... .max, using: &rng))).replacingNonJSON()
        }
    }

    /// Any value for a field: mostly numbers, sometimes junk or deep nesting.
    static func value(_ rng: inout RNG) -> String {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: junk.randomElement(using: &rng) ?? "null"
        case 1: nested(&rng)
        default: number(&rng)
        }
    }

    static func nested(_ rng: inout RNG) -> String {
        let depth = Int.random(in: 1...2_000, using: &rng)
        return Bool.random(using: &rng)
            ? String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            : String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
    }

    /// A memory or CPU value: the wire shape with a hostile number inside, or something else.
    static func quantity(_ key: String, _ rng: inout RNG) -> String {
        Int.random(in: 0..<4, using: &rng) == 0 ? value(&rng) : "{\"\(key)\": \(value(&rng))}"
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func randomBytes(_ rng: inout RNG) -> [UInt8] {
        (0..<Int.random(in: 0...256, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
}

extension String {
    /// Swift prints non-finite doubles as "nan"/"inf", which JSON does not have: those become 1e999.
    func replacingNonJSON() -> String {
        contains("nan") || contains("inf") ? (hasPrefix("-") ? "-1e999" : "1e999") : self
    }
}

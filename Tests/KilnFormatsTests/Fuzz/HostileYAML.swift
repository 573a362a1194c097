import Foundation
import PropertyBased

/// Texts of jobs.yaml and service.template as a hostile tool might write them: valid-looking
/// documents with mutated values, random bytes, deep nesting and alias bombs.
enum HostileYAML {
    typealias RNG = any SeededRandomNumberGenerator

    static let numbers = [
        "0", "-0", "-1", "1", "16", "17", "1e19", "1e308", "-1e308", "1e-400", ".nan", "NaN", ".inf", "-.inf",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "0x7fffffffffffffff",
        "0o777", "1_000", "1024Gi", "1025Gi", "1Ti", "1e19Gi", "512Mi", "0.5", "500m", "1024001m", "''", "~", "65535", "65536",
        "1023", "86400", "86401", "[1, 2]", "{a: 1}", "!!int 3", "!!float 1e400", "&n 5", "'5'",
    ]

    static func number(_ rng: inout RNG) -> String {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: numbers.randomElement(using: &rng) ?? "0"
        case 1: String(Int64.random(in: .min ... .max, using: &rng))
        default: String(Int.random(in: -2...70_000, using: &rng))
        }
    }

    static func pick(_ choices: [String], _ rng: inout RNG) -> String { choices.randomElement(using: &rng) ?? "" }

    // MARK: jobs.yaml

    static func jobEntry(_ index: Int, _ rng: inout RNG) -> [String] {
        var lines = ["- name: job\(index)", "  command: ./run.sh", "  image: \(pick(["bookworm", "python3.11", "php8.2", ""], &rng))"]
        let optional: [(String, (inout RNG) -> String)] = [
            ("mem", number), ("cpu", number), ("retry", number), ("timeout", number), ("port", number), ("replicas", number),
            ("continuous", { pick(["true", "false", "yes", "1"], &$0) }), ("schedule", { pick(["'@daily'", "'*/5 * * * *'", "'99 * * * *'"], &$0) }),
            ("emails", { pick(["none", "all", "onfailure", "lots"], &$0) }), ("mount", { pick(["all", "none"], &$0) }),
            ("filelog-stdout", { pick(["out.log", "../../etc/passwd", "/tmp/x"], &$0) }), ("timezone", { pick(["UTC", "Mars/Base"], &$0) }),
        ]
        for (key, value) in optional where Bool.random(using: &rng) && Bool.random(using: &rng) {
            lines.append("  \(key): \(value(&rng))")
        }
        return lines
    }

    static func jobsFile(_ rng: inout RNG) -> String {
        let count = Int.random(in: 0...4, using: &rng)
        var lines: [String] = []
        for index in 0..<count { lines += jobEntry(index, &rng) }
        return mutate(lines.joined(separator: "\n") + "\n", &rng)
    }

    // MARK: service.template

    static func serviceTemplate(_ rng: inout RNG) -> String {
        var lines = ["type: \(pick(["python3.11", "php8.2", "node18", "static", "generic", "cobol"], &rng))"]
        let optional: [(String, (inout RNG) -> String)] = [
            ("mem", number), ("cpu", number), ("replicas", number), ("command", { _ in "./serve" }),
            ("health-check-path", { pick(["/", "/health", "no-slash", "'/a b'"], &$0) }),
            ("extra_args", { pick(["[--workers, '4']", "--a --b", "{x: 1}"], &$0) }), ("backend", { _ in "kubernetes" }),
        ]
        for (key, value) in optional where Bool.random(using: &rng) {
            lines.append("\(key): \(value(&rng))")
        }
        return mutate(lines.joined(separator: "\n") + "\n", &rng)
    }

    // MARK: Mutations and junk

    /// Most texts pass as they are; some get a byte changed, inserted or cut, junk lines, or are
    /// replaced by one of the hostile shapes.
    static func mutate(_ text: String, _ rng: inout RNG) -> String {
        var bytes = Array(text.utf8)
        switch Int.random(in: 0..<12, using: &rng) {
        case 0 where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 1:
            bytes.insert(contentsOf: Array(pick(["&a ", "*a ", "<<: *a\n", ": ", "- ", "\t", "{", "[", "'", "\"", "%YAML 1.1\n", "---\n", "!!binary "], &rng).utf8),
                at: Int.random(in: 0...bytes.count, using: &rng))
        case 2 where !bytes.isEmpty:
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
        case 3:
            return randomBytes(&rng)
        case 4:
            return deepNesting(&rng)
        case 5:
            return aliasBomb(&rng)
        default:
            break
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func randomBytes(_ rng: inout RNG) -> String {
        let count = Int.random(in: 0...512, using: &rng)
        return String(decoding: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, as: UTF8.self)
    }

    /// Flow or block nesting, up to past libyaml's own limit (1000).
    static func deepNesting(_ rng: inout RNG) -> String {
        let depth = Int.random(in: 1...1_200, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        case 1: return String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth)
        default: return (0..<min(depth, 400)).map { String(repeating: " ", count: $0) + "- " }.joined(separator: "\n") + "x\n"
        }
    }

    /// Billion laughs: each level names the one before `fanout` times; the last is used as a
    /// value, as a key, or merged.
    static func aliasBomb(_ rng: inout RNG) -> String {
        let levels = Int.random(in: 2...12, using: &rng)
        let fanout = Int.random(in: 2...10, using: &rng)
        return aliasBomb(levels: levels, fanout: fanout, use: Int.random(in: 0..<3, using: &rng))
    }

    static func aliasBomb(levels: Int, fanout: Int, use: Int) -> String {
        var lines = ["- &l0 [lol, lol]"]
        for level in 1..<levels {
            lines.append("- &l\(level) [" + Array(repeating: "*l\(level - 1)", count: fanout).joined(separator: ", ") + "]")
        }
        let last = "*l\(levels - 1)"
        switch use {
        case 0: lines.append("- name: \(last)")
        case 1: lines.append("- {? \(last) : 1, ? \(last) : 2, other: 3}")
        default:
            lines = ["- &m0 {name: a, command: b, image: c}"]
            for level in 1..<levels {
                lines.append("- &m\(level) {<<: [" + Array(repeating: "*m\(level - 1)", count: fanout).joined(separator: ", ") + "], k\(level): 1}")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The nodes `aliasBomb(levels:fanout:use:)` expands to, at least.
    static func expandedSize(levels: Int, fanout: Int) -> Double {
        (0..<levels).reduce(0) { total, level in total + 2 * pow(Double(fanout), Double(level)) }
    }
}

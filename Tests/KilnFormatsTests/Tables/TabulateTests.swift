import Foundation
import KilnTesting
import Testing

@testable import KilnFormats

/// Tables drawn as Python's tabulate draws them: checked against tabulate itself (installed in
/// the test venv by scripts/install-test-deps) over generated tables, and on Toolforge's own.
@Suite struct TabulateTests {
    struct Case: Codable {
        var rows: [[String]]
        var headers: [String]?
        var format: String
    }

    /// A small deterministic generator (SplitMix64): the same tables on every run.
    struct Seeded {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    /// Cells of words, Toolforge's labels and numbers; no letters that spell a float (inf, nan)
    /// and no dot, which tabulate would read as numbers of another kind.
    static func cell(_ random: inout Seeded) -> String {
        switch random.below(6) {
        case 0: return String(random.below(100_000) - (random.below(4) == 0 ? 50_000 : 0))
        case 1: return ""
        case 2: return ["Job name:", "schedule: */5 * * * *", "yes: 2 time(s)", "Running", "****************"][random.below(5)]
        default:
            let alphabet = Array("bcdefghjklmopqrstuvwxyzBCDEFGHJKLMOPQRSTUVWXYZ0123456789 :-*/é")
            let length = 1 + random.below(14)
            return String((0..<length).map { _ in alphabet[random.below(alphabet.count)] }).trimmingCharacters(in: .whitespaces)
        }
    }

    static func cases() -> [Case] {
        var random = Seeded(state: 2026)
        return (0..<300).map { index in
            let columns = 1 + random.below(4)
            let rows = (0..<random.below(5)).map { _ in (0..<columns).map { _ in cell(&random) } }
            let headers = random.below(3) == 0 ? nil : (0..<columns).map { _ in cell(&random) }
            let format = Tabulate.Format.allCases[index % 3]
            // tabulate draws nothing useful for no rows and no headers.
            return Case(rows: rows.isEmpty && headers == nil ? [["x"]] : rows, headers: headers, format: format.rawValue)
        }
    }

    @Test func generatedTablesAreDrawnAsTabulateDrawsThem() throws {
        let cases = Self.cases()
        let script = """
            import json, sys
            from tabulate import tabulate
            out = []
            for case in json.load(sys.stdin):
                if case.get("headers") is None:
                    out.append(tabulate(case["rows"], tablefmt=case["format"]))
                else:
                    out.append(tabulate(case["rows"], headers=case["headers"], tablefmt=case["format"]))
            json.dump(out, sys.stdout)
            """
        let input = try makeTemporaryDirectory(prefix: "tab") + "/cases.json"
        try JSONEncoder().encode(cases).write(to: URL(fileURLWithPath: input))
        let result = try runCommand("/bin/sh", ["-c", "\"$0\" -c \"$1\" < \"$2\"", try SMTPSink.python(), script, input])
        #expect(result.status == 0, "\(result.standardError)")
        let expected = try JSONDecoder().decode([String].self, from: Data(result.standardOutput.utf8))
        #expect(expected.count == cases.count)
        var mismatches = 0
        for (index, (testCase, drawn)) in zip(cases, expected).enumerated() {
            let format = try #require(Tabulate.Format(rawValue: testCase.format))
            let ours = Tabulate.render(testCase.rows, headers: testCase.headers, format: format)
            if ours != drawn, mismatches < 5 {
                mismatches += 1
                Issue.record("case \(index) (\(testCase.format)):\nrows \(testCase.rows)\nheaders \(testCase.headers ?? [])\ntabulate:\n\(drawn)\nours:\n\(ours)")
            }
        }
    }

    @Test func toolforgesJobsShowAndListAsItsCLIPrintsThem() {
        #expect(
            Tabulate.render([["Job name:", "hello"], ["Command:", "echo hi"]], format: .grid) == """
                +-----------+---------+
                | Job name: | hello   |
                +-----------+---------+
                | Command:  | echo hi |
                +-----------+---------+
                """)
        #expect(
            Tabulate.render([["hello", "normal", "Completed"]], headers: ["Job name:", "Job type:", "Status:"], format: .pretty) == """
                +-----------+-----------+-----------+
                | Job name: | Job type: |  Status:  |
                +-----------+-----------+-----------+
                |   hello   |  normal   | Completed |
                +-----------+-----------+-----------+
                """)
        #expect(Tabulate.render([], headers: ["name", "value"], format: .plain) == "name    value")
    }
}

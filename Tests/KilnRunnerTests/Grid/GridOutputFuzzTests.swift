import KilnCore
import Testing

@testable import KilnRunner

/// Grid output is input: recorded outputs cut, spliced and sprinkled with hostile bytes never
/// crash a parser, and what a parser makes of them is still well-formed (numeric job ids).
@Suite struct GridOutputFuzzTests {
    /// Reproducible: the same cases on every run.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces: [[UInt8]] = ["&", "<", ">", "</job_list>", "<job_list>", "<state>", "r", "Eqw", "\u{0}", "]]>", "<![CDATA[", "&#0;",
        "&#x110000;", "<!DOCTYPE x [<!ENTITY a \"&a;\">]>", "|", "\n", "_", "[", ":", "=", "\u{FFFD}", "\u{1F525}", "9999999999999999999999"]
        .map { Array($0.utf8) }

    static func mutations(of text: String, count: Int, seed: UInt64) -> [String] {
        var random = SplitMix(state: seed)
        let bytes = Array(text.utf8)
        return (0..<count).map { _ in
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...6, using: &random) where !mutated.isEmpty {
                let at = Int.random(in: 0..<mutated.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: mutated.removeSubrange(at..<min(mutated.count, at + Int.random(in: 1...40, using: &random)))
                case 1: mutated.insert(contentsOf: pieces[Int.random(in: 0..<pieces.count, using: &random)], at: at)
                case 2: mutated[at] = UInt8.random(in: 0...255, using: &random)
                default: mutated = Array(mutated[..<at])
                }
            }
            return String(decoding: mutated, as: UTF8.self)
        }
    }

    static func wellFormed(_ listing: GridQueueListing) -> Bool {
        listing.entries.allSatisfy { !$0.jobID.isEmpty && $0.jobID.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    @Test func qstatXML() {
        var read = 0
        for xml in Self.mutations(of: GridEngineListingParserTests.recorded, count: 3000, seed: 13) {
            guard let listing = try? GridEngineListingParser.parse(xml) else { continue }
            read += 1
            #expect(Self.wellFormed(listing))
        }
        // Some mutations leave a readable document: the parser is exercised both ways.
        #expect(read > 0)
    }

    @Test func squeueLines() {
        for output in Self.mutations(of: SlurmListingParserTests.recorded, count: 3000, seed: 14) {
            #expect(Self.wellFormed(SlurmListingParser.parse(output)))
        }
    }

    @Test func accountingRecords() {
        let qacct = GridEngineAccountingParserTests.record(failed: "37  : qmaster enforced h_rt", exit: "137", maxvmem: "1.5G")
        for output in Self.mutations(of: qacct, count: 3000, seed: 15) {
            if let record = GridEngineAccountingParser.parse(output) {
                _ = GridEngineAccountingParser.status(record, memory: MemorySize(bytes: 1 << 30))
            }
        }
        for output in Self.mutations(of: SlurmAccountingParserTests.scontrol + "\n8|FAILED|3:0|node1\n", count: 3000, seed: 16) {
            _ = SlurmAccountingParser.parseScontrol(output, jobID: "8")
            _ = SlurmAccountingParser.parseSacct(output, jobID: "8")
        }
        for text in Self.mutations(of: "137\n", count: 500, seed: 17) {
            if case .exited(let code)? = GridAttemptFiles.exitStatus(text) { #expect((0...255).contains(code)) }
        }
    }

    @Test func submissionOutputs() {
        for output in Self.mutations(of: "12345.1-10:1\n", count: 1000, seed: 18) {
            if let id = GridEngineDialect().jobID(submitted: output) { #expect(id.allSatisfy { $0.isASCII && $0.isNumber }) }
            if let id = SlurmDialect().jobID(submitted: output) { #expect(id.allSatisfy { $0.isASCII && $0.isNumber }) }
        }
    }
}

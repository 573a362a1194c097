import Foundation
import KilnCore
import PropertyBased
import Testing

/// Memory and CPU as users write them, hostile ones included: in range or a KilnError, never a trap.
@Suite struct QuantityRangeTests {
    @Test(arguments: ["1e19", "1e308", "9223372036854775807", "9223372036854775808", "1025Gi", "2Ti", "1e19Gi", "1.1Ti"])
    func memoryPastTheMaximumIsRefusedAsOutOfRange(text: String) {
        #expect {
            try MemorySize(parsing: text)
        } throws: { error in
            (error as? KilnError)?.code == .invalidQuantity && "\(error)".contains("out of range")
        }
    }

    @Test(arguments: ["nan", "NaN", "inf", "-inf", "infinity", "-0", "-1e308", "1e-400"])
    func memoryThatIsNoSizeIsRefused(text: String) {
        #expect(throws: KilnError.self) { try MemorySize(parsing: text) }
    }

    @Test func theMaximumsAreValidAndPrintable() throws {
        #expect(try MemorySize(parsing: "1Ti") == MemorySize.maximum)
        #expect(try MemorySize(parsing: "1024Gi").description == "1024Gi")
        #expect(try CPUQuantity(parsing: "1024") == CPUQuantity.maximum)
        #expect(try CPUQuantity(parsing: "1024000m") == CPUQuantity.maximum)
    }

    @Test(arguments: ["1e19", "1025", "1e308", "9223372036854775807", "1024001m", "1e30m"])
    func cpuPastTheMaximumIsRefusedAsOutOfRange(text: String) {
        #expect {
            try CPUQuantity(parsing: text)
        } throws: { error in
            (error as? KilnError)?.code == .invalidQuantity && "\(error)".contains("out of range")
        }
    }

    @Test(arguments: [#"{"bytes": -1}"#, #"{"bytes": 1099511627777}"#, #"{"bytes": -1000000000000000000}"#])
    func decodingRefusesMemoryOutOfRangeNamingTheField(json: String) {
        let body = #"{"memory": \#(json)}"#
        #expect {
            try JSONDecoder().decode([String: MemorySize].self, from: Data(body.utf8))
        } throws: { error in
            (error as? KilnError)?.context["field"] == "memory" && "\(error)".contains("field 'memory'")
        }
    }

    @Test(arguments: [#"{"millicores": -1}"#, #"{"millicores": 1024001}"#, #"{"millicores": -9223372036854775808}"#])
    func decodingRefusesCPUOutOfRangeNamingTheField(json: String) {
        let body = #"{"cpu": \#(json)}"#
        #expect {
            try JSONDecoder().decode([String: CPUQuantity].self, from: Data(body.utf8))
        } throws: { error in
            (error as? KilnError)?.context["field"] == "cpu"
        }
    }

    @Test func decodingKeepsWhatIsInRange() throws {
        let decoded = try JSONDecoder().decode(MemorySize.self, from: Data(#"{"bytes": 536870912}"#.utf8))
        #expect(decoded == MemorySize(bytes: 512 << 20))
        #expect(try JSONDecoder().decode(CPUQuantity.self, from: Data(#"{"millicores": 0}"#.utf8)) == .zero)
    }

    @Test func storedRecordsAreReadAsTheyWereWritten() throws {
        let decoder = JSONDecoder()
        if let key = CodingUserInfoKey.storedRecord { decoder.userInfo[key] = true }
        #expect(try decoder.decode(MemorySize.self, from: Data(#"{"bytes": -1}"#.utf8)) == MemorySize(bytes: -1))
        let job = #"{"name": "a", "command": "x", "image": "bookworm", "memory": {"bytes": 0}, "cpu": {"millicores": -5}}"#
        #expect(try decoder.decode(JobSpec.self, from: Data(job.utf8)).cpu == CPUQuantity(millicores: -5))
        #expect(throws: KilnError.self) { try JSONDecoder().decode(JobSpec.self, from: Data(job.utf8)) }
    }

    @Test func totalsSaturateInsteadOfTrapping() {
        #expect(MemorySize(bytes: .max) + MemorySize(bytes: 1) == MemorySize(bytes: .max))
        #expect(MemorySize(bytes: .min) + MemorySize(bytes: -1) == MemorySize(bytes: .min))
        #expect(MemorySize(bytes: -5).times(3) == .zero)
        #expect(MemorySize(bytes: 1 << 40).times(.max) == MemorySize(bytes: .max))
        #expect(MemorySize(bytes: 3).times(-5) == .zero)
        #expect(CPUQuantity(millicores: .max) + CPUQuantity(millicores: 1) == CPUQuantity(millicores: .max))
        #expect(CPUQuantity(millicores: 2).times(.max) == CPUQuantity(millicores: .max))
        #expect(CPUQuantity(millicores: 250).times(4) == CPUQuantity(millicores: 1000))
    }

    /// Any text: parsed within range, or refused with a KilnError (typed throws) — a trap ends the run.
    @Test func anyTextParsesInRangeOrIsRefused() async {
        var parsed = 0
        var executions = 0
        await propertyCheck(count: 3000, input: HostileNumberText.generator) { text in
            executions += 1
            if let memory = try? MemorySize(parsing: text) {
                parsed += 1
                #expect((1...MemorySize.maximum.bytes).contains(memory.bytes), "\(text)")
            }
            if let cpu = try? CPUQuantity(parsing: text) {
                parsed += 1
                #expect((1...CPUQuantity.maximum.millicores).contains(cpu.millicores), "\(text)")
            }
        }
        print("fuzz: memory and CPU texts: \(executions) executions, \(parsed) parsed")
        #expect(executions == 3000)
    }
}

/// Number texts as a hostile tool writes them: edge values, exponents, suffixes, junk.
enum HostileNumberText {
    static let edges = [
        "0", "-0", "-1", "1", "0.5", "1e19", "1e308", "-1e308", "1e-308", "1e-400", "nan", "NaN", "-nan", "inf", "-inf",
        "Infinity", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616",
        "0x7fffffffffffffff", "0x1p63", "1_000", "", " ", "1e", "e5", "--1", "1.", ".5", "1e+19", "4294967296",
    ]
    static let suffixes = ["", "", "m", "Ki", "Mi", "Gi", "Ti", "K", "k", "M", "G", "T", "Pi", "E", "i", " Mi"]

    static let generator = Generator<String, Shrink.None<String>> { rng in
        let number: String
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: number = edges.randomElement(using: &rng) ?? "0"
        case 4: number = String(Int.random(in: 0...4096, using: &rng))
        case 5: number = String(Double.random(in: 0...2048, using: &rng))
        case 1: number = String(Double(bitPattern: UInt64.random(in: .min ... .max, using: &rng)))
        case 2: number = String(Int64.random(in: .min ... .max, using: &rng))
        default:
            let digits = Int.random(in: 1...40, using: &rng)
            number = String((0..<digits).map { _ in "0123456789.e-+"[Int.random(in: 0..<14, using: &rng)] })
        }
        return number + (suffixes.randomElement(using: &rng) ?? "")
    }
}

extension String {
    subscript(offset: Int) -> Character { self[index(startIndex, offsetBy: offset)] }
}

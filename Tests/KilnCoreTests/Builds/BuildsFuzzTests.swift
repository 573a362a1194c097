import Foundation
import KilnCore
import PropertyBased
import Testing

/// Procfiles and image names as a hostile tool writes them: each parses into something that
/// holds to the rules, or is refused with a KilnError; a trap would end the run.
@Suite struct BuildsFuzzTests {
    typealias RNG = any SeededRandomNumberGenerator

    static func pick(_ choices: [String], _ rng: inout RNG) -> String { choices.randomElement(using: &rng) ?? "" }

    static let junk = [
        "", " ", "\t", ":", "::", "#", "\n", "\r", "\r\n", "\u{0}", "\u{7f}", "\u{85}", "\u{2028}", "\u{FEFF}", "é", "e\u{301}", "\u{0661}",
        "-", "_", ".", "/", "..", "../", "@", "latest", "LATEST", "0", "-1", "+1", "007", "1000000000", "1000000001",
        "99999999999999999999", "9223372036854775808", "tool-", "tool-bot", "web", "worker", "$PORT", "'", "\"", "\\", ";", "|",
        "\u{1F600}", "\u{0301}", String(repeating: "a", count: 63), String(repeating: "a", count: 64), String(repeating: "x", count: 300),
    ]

    static func randomBytes(_ rng: inout RNG, upTo limit: Int) -> String {
        let count = Int.random(in: 0...limit, using: &rng)
        return String(decoding: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, as: UTF8.self)
    }

    static func word(_ rng: inout RNG) -> String {
        (0..<Int.random(in: 1...3, using: &rng)).map { _ in pick(junk, &rng) }.joined()
    }

    static func mutate(_ text: String, _ rng: inout RNG) -> String {
        var bytes = Array(text.utf8)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0 where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 1:
            bytes.insert(contentsOf: Array(word(&rng).utf8), at: Int.random(in: 0...bytes.count, using: &rng))
        case 2 where !bytes.isEmpty:
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
        default:
            break
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let procfiles = Generator<String, Shrink.None<String>> { rng in
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            return randomBytes(&rng, upTo: 1024)
        case 1:
            // Past the size limit, or the number of processes.
            let count = Int.random(in: 90...120, using: &rng)
            return (0..<count).map { "p\($0): run" }.joined(separator: pick(["\n", "\r\n"], &rng))
        case 2:
            return String(repeating: pick(["#", "web: x\n", "\n", "a"], &rng), count: Int.random(in: 60_000...70_000, using: &rng))
        default:
            let lines = (0..<Int.random(in: 0...8, using: &rng)).map { _ -> String in
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: "\(pick(["web", "worker", "release", "a-b_C9"], &rng)): \(pick(["gunicorn app:app", "npm start", "./run.sh"], &rng))"
                case 1: "\(word(&rng)):\(word(&rng))"
                case 2: pick(["# comment", "", "   ", "web", ": x"], &rng)
                default: word(&rng)
                }
            }
            return mutate(lines.joined(separator: pick(["\n", "\r\n", "\r", "\n\n"], &rng)), &rng)
        }
    }

    static let imageNames = Generator<String, Shrink.None<String>> { rng in
        switch Int.random(in: 0..<8, using: &rng) {
        case 0:
            return randomBytes(&rng, upTo: 128)
        case 1:
            return "tool-\(word(&rng))/\(word(&rng)):\(word(&rng))"
        case 2:
            return "tool-bot/web:\(Int.random(in: Int.min...Int.max, using: &rng))"
        case 3:
            return "tool-bot/web:\(Int.random(in: -2...1_000_000_002, using: &rng))"
        default:
            let text = "tool-\(pick(["bot", "my-tool", "a", "x1"], &rng))/\(pick(["web", "a.b_c", "img-2"], &rng))"
                + pick(["", ":latest", ":1", ":42", ":1000000000"], &rng)
            return mutate(text, &rng)
        }
    }

    @Test func procfilesParseWithinTheRulesOrAreRefused() async {
        var executions = 0
        var parsed = 0
        await propertyCheck(count: 3000, input: Self.procfiles) { text in
            executions += 1
            do throws(KilnError) {
                let procfile = try Procfile(parsing: text)
                parsed += 1
                #expect(text.utf8.count <= Procfile.maximumBytes)
                #expect(procfile.processes.count <= Procfile.maximumProcesses)
                #expect(Set(procfile.processes.map(\.type)).count == procfile.processes.count)
                for process in procfile.processes {
                    #expect(Procfile.problem(withType: process.type) == nil, "\(process.type)")
                    #expect(!process.command.isEmpty)
                    #expect(!process.command.utf8.contains(0))
                    // One line, one command: no line of the file runs as part of another's.
                    #expect(!process.command.utf8.contains(10), "\(process.command.debugDescription)")
                }
            } catch {
                #expect(error.code == .badRequest)
                #expect(error.context["file"] == "Procfile")
                #expect(error.message.hasPrefix("Procfile"))
            }
        }
        print("fuzz: Procfile: \(executions) executions, \(parsed) parsed")
        #expect(executions == 3000)
    }

    @Test func imageNamesParseWithinTheRulesOrAreRefused() async {
        var executions = 0
        var parsed = 0
        await propertyCheck(count: 5000, input: Self.imageNames) { text in
            executions += 1
            #expect(BuiltImageName.isBuiltImage(text) || (try? BuiltImageName(parsing: text)) == nil)
            do throws(KilnError) {
                let name = try BuiltImageName(parsing: text)
                parsed += 1
                #expect(BuiltImageName.problem(withName: name.name) == nil)
                if case .number(let tag) = name.tag { #expect((1...BuiltImageName.maximumTagNumber).contains(tag)) }
                // What it says of itself reads back as itself.
                #expect((try? BuiltImageName(parsing: name.description)) == name, "\(name)")
            } catch {
                #expect(error.code == .badRequest)
                #expect(error.context["field"] == "image")
            }
            // A build id of the same text is a number in range, or none.
            if let number = BuildRecord.number(in: text, of: try! ToolName("bot")) { #expect(number >= 1 && number < 1_000_000_000) }
        }
        print("fuzz: image names: \(executions) executions, \(parsed) parsed")
        #expect(executions == 5000)
    }
}

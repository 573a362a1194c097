import Foundation
import KilnCore
import PropertyBased
import Testing

@testable import KilnFormats

/// Generated jsub command lines and crontabs through the real parser and converter: a command
/// line is read into options whose numbers are in range, or refused with a message; a crontab
/// converts into jobs that validate and read back from their jobs.yaml unchanged, the rest warned
/// about. A trap would end the run.
@Suite struct GridFuzzTests {
    typealias RNG = any SeededRandomNumberGenerator

    static let options = [
        "-N", "-mem", "-l", "-o", "-e", "-j", "-cwd", "-wd", "-v", "-i", "-once", "-quiet", "-stderr", "-continuous", "-sync",
        "-b", "-q", "-p", "-umask", "-now", "-hard", "-soft", "-a", "-m", "--data", "-", "--",
    ]
    static let values = [
        "500m", "1g", "0m", "-5m", "99999999999999999999g", "1024g", "1025g", "h_vmem=2g,release=buster", "h_rt=INFINITY",
        "h_rt=99:99:99", "virtual_free=1024g", "arch=lx", "y", "n", "maybe", "~/x.out", "/dev/null", "../../etc/passwd", "",
        "A=1,B", "1A=x", "My_Bot", "bøt", "日本", "a/b", "\u{0}", "x\ny", "007", "9", "2000", String(repeating: "z", count: 300),
        "'quoted words'", "$HOME/x", "$(date)", "%", "\\%", ">/dev/null", "2>&1", "|", ";", "&&", "cd",
    ]
    static let programs = ["echo", "./run.sh", "python3", "/usr/bin/env", "Bot.Tool.sh", "-x", "jsub", "'two words'"]

    static func word(_ rng: inout RNG) -> String {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: options.randomElement(using: &rng) ?? "-N"
        case 1: values.randomElement(using: &rng) ?? ""
        default: programs.randomElement(using: &rng) ?? "x"
        }
    }

    static let commandLines = Generator<[String], Shrink.None<[String]>> { rng in
        (0..<Int.random(in: 0...9, using: &rng)).map { _ in word(&rng) }
    }

    static let schedules = ["* * * * *", "*/10 * * * *", "@daily", "@reboot", "@every", "61 * * * *", "0 0 31 2 *", "* * *"]
    static let variables = ["MAILTO=a@b.org", "MAILTO=\"\"", "PATH=/x/bin:/usr/bin", "CRON_TZ=Europe/Berlin", "CRON_TZ=Mars/Base", "LANG=C"]

    static let crontabs = Generator<String, Shrink.None<String>> { rng in
        (0..<Int.random(in: 1...12, using: &rng)).map { _ in
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return variables.randomElement(using: &rng) ?? ""
            case 1: return "# a comment"
            default:
                let call = ["jsub", "jstart", "/usr/bin/jsub", "qcronsub", "cd ~/bot &&", "echo"].randomElement(using: &rng) ?? "jsub"
                let words = (0..<Int.random(in: 0...8, using: &rng)).map { _ in word(&rng) }
                return ([schedules.randomElement(using: &rng) ?? "* * * * *", call] + words).joined(separator: " ")
            }
        }.joined(separator: "\n")
    }

    @Test func commandLinesParseInRangeOrAreRefused() async {
        var executions = 0
        var parsed = 0
        await propertyCheck(count: 3000, input: Self.commandLines) { words in
            executions += 1
            do throws(KilnError) {
                let options = try JsubOptions.parse(words, invokedAs: .jsub)
                parsed += 1
                #expect((1...MemorySize.maximum.bytes).contains(options.memory.bytes))
                #expect(options.timeout.map { (1...JobSpec.maximumTimeout).contains($0) } ?? true)
                #expect(options.programIndex < words.count && words[options.programIndex] == options.program)
                let job = GridJob(options: options, name: GridJobName.sanitized(options.gridName), command: "x", environment: ["B": "b"])
                if let spec = try? job.spec() { #expect((try? spec.validate()) != nil) }
            } catch {
                #expect(!error.message.isEmpty && error.message.count < 1000, "\(error.message)")
            }
        }
        print("fuzz: jsub: \(executions) executions, \(parsed) parsed")
        #expect(executions == 3000)
    }

    @Test func crontabsConvertToJobsThatReadBackOrAreWarnedAbout() async {
        var executions = 0
        var converted = 0
        await propertyCheck(count: 2000, input: Self.crontabs) { text in
            executions += 1
            do throws(KilnError) {
                let conversion = try CrontabConversion.convert(text)
                converted += conversion.jobs.count
                for spec in conversion.jobs { #expect((try? spec.validate()) != nil, "\(spec)") }
                #expect(Set(conversion.jobs.map(\.name)).count == conversion.jobs.count)
                let parsed = try JobsFile.parse(JobsFile.dump(conversion.jobs), strict: true)
                #expect(parsed.jobs == conversion.jobs, "\(text)")
            } catch {
                Issue.record("\(text): \(error.message)")
            }
        }
        print("fuzz: crontabs: \(executions) executions, \(converted) jobs")
        #expect(executions == 2000)
    }
}

import KilnCore
import Testing

@testable import KilnFormats

/// jsub's command line as Toolforge's jobutils read it, and what it is refused for: every refusal
/// is a KilnError whose message names the option, never a trap.
@Suite struct JsubOptionsTests {
    static func parse(_ line: String, as invocation: JsubOptions.Invocation = .jsub) throws -> JsubOptions {
        try JsubOptions.parse(line.split(separator: " ").map(String.init), invokedAs: invocation)
    }

    /// The refusal's message (nil when it was accepted).
    static func refusal(_ words: [String], as invocation: JsubOptions.Invocation = .jsub) -> String? {
        do {
            _ = try JsubOptions.parse(words, invokedAs: invocation)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func readsACrontabsCallOptionsFirstThenTheProgramUntouched() throws {
        let options = try Self.parse("-once -quiet -N updater -mem 500m -o /tmp/u.out -e /tmp/u.err python3 bot.py -mem --x")
        #expect(options.once && options.quiet && !options.continuous)
        #expect(options.name == "updater" && options.gridName == "updater")
        #expect(options.memory == MemorySize(bytes: 500 << 20))
        #expect(options.output == "/tmp/u.out" && options.error == "/tmp/u.err")
        #expect(options.program == "python3")
        // The program's own words, option-like or not, are its own.
        #expect(options.arguments == ["bot.py", "-mem", "--x"])
        #expect(options.programIndex == 10)
        #expect(options.workingDirectory == .home && options.timeout == nil && !options.waits)
    }

    @Test func defaultsAreTheGrids() throws {
        let plain = try Self.parse("./bot.py")
        #expect(plain.memory == MemorySize(bytes: 512 << 20))
        #expect(!plain.once && !plain.continuous && !plain.quiet && !plain.errorsToStandardError && !plain.joinsErrors)
        #expect(plain.gridName == "bot")
        let jstart = try Self.parse("python3 irc.py", as: .jstart)
        #expect(jstart.continuous && jstart.once)
        let qcronsub = try Self.parse("x.sh", as: .qcronsub)
        #expect(qcronsub.once && !qcronsub.continuous)
        let continuous = try Self.parse("-continuous x.sh")
        #expect(continuous.continuous && continuous.once)
    }

    @Test func theDefaultNameIsTheProgramsFileNameUpToItsFirstDot() {
        for (program, name) in [
            ("bot.py", "bot"), ("/usr/bin/python3", "python3"), ("./run.tar.gz", "run"), ("~/bin/.hidden", "hidden"), ("...", "unknown"),
            ("dir/", "dir"),
        ] {
            #expect(GridJobName.derived(fromProgram: program) == name, "\(program)")
        }
    }

    @Test func memoryIsANumberAndAUnitAsJsubTookIt() throws {
        for (text, bytes) in [
            ("500m", Int64(500) << 20), ("500M", Int64(500) << 20), ("1g", Int64(1) << 30), ("2G", Int64(2) << 30),
            ("4096k", Int64(4096) << 10), ("1024g", Int64(1) << 40),
        ] {
            #expect(try GridMemory.parse(text, option: "-mem") == MemorySize(bytes: bytes), "\(text)")
        }
        // The last of -mem and -l h_vmem wins, as jsub read them in order.
        #expect(try Self.parse("-mem 1g -l h_vmem=256m x").memory == MemorySize(bytes: 256 << 20))
        #expect(try Self.parse("-l h_vmem=256m -mem 2g x").memory == MemorySize(bytes: 2 << 30))
        // virtual_free above h_vmem raised it to 1.1 times (in KiB, rounded up).
        let raised = try Self.parse("-l virtual_free=1g,h_vmem=512m x").memory
        #expect(raised == MemorySize(bytes: Int64((Double(1 << 20) * 1.1).rounded(.up)) * 1024))
        #expect(try Self.parse("-l virtual_free=100m x").memory == JsubOptions.defaultMemory)
        #expect(try Self.parse("-l release=buster x").memory == JsubOptions.defaultMemory)
        #expect(try Self.parse("-l h_rt=01:30:00,release=trusty x").timeout == 5400)
        #expect(try Self.parse("-l h_rt=90 x").timeout == 90)
        #expect(try Self.parse("-l h_rt=INFINITY x").timeout == nil)
    }

    @Test func hostileMemoryIsRefusedNamingTheOption() {
        let values = [
            "0m", "-5m", "500", "1.5g", "m", "", "1e3m", " 5m", "5m ", "0x10m", "99999999999999999999g", "9223372036854775807k",
            "1025g", "1048577m", "1073741825k", "５００m", "٥m", "5mb", "5 m", "+5m",
        ]
        for value in values {
            let message = Self.refusal(["-mem", value, "x"])
            #expect(message?.hasPrefix("-mem: ") == true, "\(value): \(message ?? "accepted")")
            let resource = Self.refusal(["-l", "h_vmem=\(value)", "x"])
            #expect(resource != nil, "h_vmem=\(value) accepted")
        }
        #expect(Self.refusal(["-mem", "1025g", "x"])?.contains("at most \(MemorySize.maximum)") == true)
        // 1.1 times the most a job may have is more than it may have.
        #expect(Self.refusal(["-l", "virtual_free=1024g", "x"])?.contains("virtual_free") == true)
        for runTime in ["0", "-1", "86401", "24:00:01", "99:99:99", "1:2:3:4", "1::2", "abc", "9999999999999", "１"] {
            #expect(Self.refusal(["-l", "h_rt=\(runTime)", "x"])?.contains("h_rt") == true, "\(runTime)")
        }
        #expect(Self.refusal(["-l", "arch=lx", "x"])?.contains("h_vmem, virtual_free, h_rt, release") == true)
        #expect(Self.refusal(["-l", "h_vmem", "x"]) != nil)
    }

    @Test func unknownOptionsAndMissingValuesAreClearErrors() {
        #expect(Self.refusal(["-m", "bea", "x"])?.contains("unknown option -m") == true)
        #expect(Self.refusal(["--frobnicate", "x"])?.contains("unknown option --frobnicate") == true)
        #expect(Self.refusal(["-N"])?.contains("option -N requires an argument") == true)
        #expect(Self.refusal(["-quiet"])?.contains("no program given") == true)
        #expect(Self.refusal([]) != nil)
        #expect(Self.refusal([""])?.contains("empty") == true)
        #expect(Self.refusal(["-a", "202401010000", "x"])?.contains("-a (start at a later time) is not supported") == true)
        #expect(Self.refusal(["-j", "maybe", "x"])?.contains("-j takes y or n") == true)
        #expect(Self.refusal(["-p", "2000", "x"])?.contains("-p") == true)
        #expect(Self.refusal(["-umask", "9", "x"])?.contains("umask") == true)
        #expect(Self.refusal(["-v", "1A=x", "x"])?.contains("-v") == true)
        #expect(Self.refusal(["-o", "a\u{0}b", "x"]) != nil)
        #expect(Self.refusal(["-o", "a\nb", "x"]) != nil)
        #expect(Self.refusal(["-o", String(repeating: "a", count: 5000), "x"])?.contains("4095") == true)
        #expect(Self.refusal(["-sync", "y", "x"], as: .jstart)?.contains("continuous") == true)
        #expect(Self.refusal(["-unknown-" + String(repeating: "x", count: 10000), "x"])?.count ?? 0 < 1000)
    }

    @Test func qsubsOptionsAreTakenAsFarAsTheyMeanSomethingHere() throws {
        let options = try Self.parse("-cwd -j y -sync y -v A=1,B -i in.txt -b y -now n -p 10 -q task -hard -soft -umask 007 -stderr x")
        #expect(options.workingDirectory == .current && options.joinsErrors && options.waits && options.errorsToStandardError)
        #expect(options.variables == [.init(name: "A", value: "1"), .init(name: "B", value: nil)])
        #expect(options.input == "in.txt")
        #expect(try Self.parse("-wd /srv/x x").workingDirectory == .path("/srv/x"))
        #expect(try Self.parse("-j n x").joinsErrors == false)
    }

    @Test func namesKilnRefusesAreClearErrorsThatProposeOne() throws {
        #expect(try GridJobName.kilnName(given: "ok-name-2") == "ok-name-2")
        let refused: [(String, String)] = [
            ("My_Bot", "such as -N my-bot"), ("bøt", "such as -N b-t"), ("2fa", "such as -N job-2fa"), ("日本語", "such as -N job"),
            (String(repeating: "a", count: 53), "at most 52"), ("-x", "such as -N x"),
        ]
        for (name, hint) in refused {
            do {
                _ = try GridJobName.kilnName(given: name)
                Issue.record("\(name) accepted")
            } catch {
                #expect(error.message.contains(hint), "\(name): \(error.message)")
                #expect(error.code == .invalidName)
            }
        }
        // The grid's own rules for -N: a file name.
        for name in ["", "a/b", "..", "a\u{7}b", String(repeating: "x", count: 201)] {
            #expect(Self.refusal(["-N", name, "x"]) != nil, "\(name.debugDescription)")
        }
        #expect(try Self.parse("-N Ünïcödé x").name == "Ünïcödé")
    }

    @Test func sanitizedNamesAreAlwaysValidAndNumberedOnesFit() throws {
        for name in ["Bot", "--", "", "a--b__c", "Ünïcödé-bot", String(repeating: "Z", count: 500), "9", "a-", "\u{0}\u{1}", "🙂bot"] {
            let sanitized = GridJobName.sanitized(name)
            #expect(throws: Never.self, "\(name.debugDescription) → \(sanitized)") { try JobName.validate(sanitized) }
            for number in [1, 2, 10, 100] {
                let numbered = GridJobName.numbered(sanitized, number)
                #expect(throws: Never.self, "\(numbered)") { try JobName.validate(numbered) }
            }
        }
        #expect(GridJobName.sanitized("Backup_Tool") == "backup-tool")
        #expect(GridJobName.numbered(String(repeating: "a", count: 52), 2) == String(repeating: "a", count: 50) + "-2")
    }
}

import KilnCore
import Testing

@testable import KilnFormats

/// jsub's options as a Kiln job's declaration, and the shell words it is written in.
@Suite struct GridJobTests {
    static func job(_ line: String, name: String? = nil, directory: String? = nil, as invocation: JsubOptions.Invocation = .jsub)
        throws -> JobSpec
    {
        let options = try JsubOptions.parse(line.split(separator: " ").map(String.init), invokedAs: invocation)
        let command = ([options.program] + options.arguments).map(ShellWords.quote).joined(separator: " ")
        return try GridJob(
            options: options, name: name ?? GridJobName.sanitized(options.gridName), command: command, directory: directory,
            environment: ["B": "from here"]
        ).spec()
    }

    @Test func aOneOffJobOfTheDebianImageWithTheGridsMemoryAndNoRunTimeLimit() throws {
        let spec = try Self.job("-once -quiet -N x -mem 256m echo hi")
        #expect(
            spec
                == JobSpec(
                    name: "x", command: "echo hi", image: "bookworm", memory: MemorySize(bytes: 256 << 20),
                    timeout: JobSpec.maximumTimeout))
        let continuous = try Self.job("-N w sleep 600", as: .jstart)
        #expect(continuous.continuous && continuous.timeout == nil && continuous.memory == MemorySize(bytes: 512 << 20))
        #expect(try Self.job("-l h_rt=0:10:00 x.sh").timeout == 600)
    }

    @Test func logsGoWhereJsubPutThem() throws {
        // Kiln's default is jsub's (~/NAME.out, ~/NAME.err) when the names agree.
        let plain = try Self.job("-N x true")
        #expect(plain.filelog && plain.filelogStdout == nil && plain.filelogStderr == nil)
        // -j y: errors into the output's file.
        let joined = try Self.job("-N x -j y true")
        #expect(joined.filelogStdout == nil && joined.filelogStderr == "x.out")
        let joinedGiven = try Self.job("-N x -o ~/logs/x.log -j y true")
        #expect(joinedGiven.filelogStdout == "~/logs/x.log" && joinedGiven.filelogStderr == "~/logs/x.log")
        // A Kiln name other than the grid's: the files keep the grid's name.
        let renamed = try Self.job("./Backup.sh")
        #expect(renamed.name == "backup" && renamed.filelogStdout == "Backup.out" && renamed.filelogStderr == "Backup.err")
        // Both to /dev/null: no file log; one: sh discards it.
        let silent = try Self.job("-N x -o /dev/null -e /dev/null true")
        #expect(!silent.filelog && silent.command == "true")
        let noOutput = try Self.job("-N x -o /dev/null true")
        #expect(noOutput.filelog && noOutput.command == "true >/dev/null" && noOutput.filelogStdout == nil)
        let noErrors = try Self.job("-N x -e /dev/null true")
        #expect(noErrors.command == "true 2>/dev/null")
        // Relative paths are from where it runs.
        let inFolder = try Self.job("-N x -cwd -o out/x.log true", directory: "~/bot")
        #expect(inFolder.filelogStdout == "~/bot/out/x.log" && inFolder.command == "cd ~/bot && true")
    }

    @Test func theCommandRunsAsGivenWithItsVariablesAndInput() throws {
        let spec = try Self.job("-N x -v A=it's,B -i ~/in.txt python3 a b", directory: "/srv/my dir")
        #expect(spec.command == #"cd '/srv/my dir' && A='it'\''s' B='from here' python3 a b <~/in.txt"#)
        #expect(throws: KilnError.self) { try Self.job("-N x -v UNSET x") }
    }

    @Test func quotedWordsReadBackAsTheSameWords() throws {
        let words = [
            "plain", "two words", "it's", "\"dq\"", "$HOME", "`x`", "a;b", "~", "~/x", "*", "", "tab\there", "new\nline", "back\\slash",
            "ünïcödé", "%", "-N", "a=b", "#x", "x#",
        ]
        for word in words {
            let tokens = try ShellWords.tokens(ShellWords.quote(word))
            #expect(tokens.map(\.text) == [word], "\(word.debugDescription) → \(ShellWords.quote(word))")
            #expect(tokens.allSatisfy { $0.isWord && !$0.expands })
        }
    }

    @Test func shellWordsAreReadAsShDoes() throws {
        let line = #"cd ~/bot && jsub -N "a b" 'x y' $HOME/z "$(date +%F) x" >/dev/null 2>&1 # note"#
        let tokens = try ShellWords.tokens(line)
        #expect(tokens.map(\.text) == ["cd", "~/bot", "&&", "jsub", "-N", "a b", "x y", "$HOME/z", "$(date +%F) x", ">", "/dev/null", "2>&", "1"])
        #expect(tokens.map(\.isWord) == [true, true, false, true, true, true, true, true, true, false, true, false, true])
        #expect(tokens.filter(\.expands).map(\.text) == ["$HOME/z", "$(date +%F) x"])
        #expect(String(line[tokens[5].range]) == #""a b""#)
        for unterminated in ["'open", "\"open", "$(open", "`open", "${open"] {
            #expect(throws: KilnError.self, "\(unterminated)") { try ShellWords.tokens(unterminated) }
        }
        #expect(throws: KilnError.self) { try ShellWords.tokens(String(repeating: "x", count: ShellWords.maximumLength + 1)) }
    }
}

import KilnCore

/// What a grid-era `jsub` command line asks for (also `jstart`, `qcronsub`), read as Toolforge's
/// jobutils read it: options first, qsub's that jsub passed on and its own (`-mem`, `-once`,
/// `-continuous`, `-quiet`, `-stderr`, `-umask`), then the program and its arguments, untouched.
/// See `JsubOptions+Parsing` for each option.
public struct JsubOptions: Sendable, Hashable {
    /// The name the command was called by: `jstart` is `jsub -continuous`, `qcronsub` `jsub -once`.
    public enum Invocation: String, Sendable, Hashable, CaseIterable {
        case jsub, jstart, qcronsub
    }

    /// Where the job runs: the tool's home (as on the grid), where jsub was called (`-cwd`), or a
    /// folder (`-wd DIR`).
    public enum WorkingDirectory: Sendable, Hashable {
        case home, current, path(String)
    }

    /// `-v NAME=VALUE`; a bare `-v NAME` takes the value from the caller's environment.
    public struct Variable: Sendable, Hashable {
        public var name: String
        public var value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    public var invocation: Invocation
    /// `-N`, as given.
    public var name: String?
    public var memory: MemorySize
    public var once: Bool
    public var continuous: Bool
    public var quiet: Bool
    /// `-stderr`: jsub's own errors go to standard error, not to the job's error file.
    public var errorsToStandardError: Bool
    /// `-o` and `-e`, as given.
    public var output: String?
    public var error: String?
    /// `-j y`: errors go to the output file.
    public var joinsErrors: Bool
    public var workingDirectory: WorkingDirectory
    public var variables: [Variable]
    /// `-i FILE`: the job's standard input.
    public var input: String?
    /// `-l h_rt=…`, in seconds; nil for none (the grid's task queue had no limit).
    public var timeout: Int?
    /// `-sync y`: wait for the job to end and exit with its code.
    public var waits: Bool
    public var program: String
    public var arguments: [String]
    /// The program's place in the words parsed: the options are the words before it.
    public var programIndex: Int

    /// What a job got without `-mem`: 512 MiB, as on the grid.
    public static let defaultMemory = MemorySize(bytes: 512 << 20)

    public init(invocation: Invocation, program: String, arguments: [String] = [], programIndex: Int = 0) {
        self.invocation = invocation
        name = nil
        memory = Self.defaultMemory
        once = invocation != .jsub
        continuous = invocation == .jstart
        quiet = false
        errorsToStandardError = false
        output = nil
        error = nil
        joinsErrors = false
        workingDirectory = .home
        variables = []
        input = nil
        timeout = nil
        waits = false
        self.program = program
        self.arguments = arguments
        self.programIndex = programIndex
    }

    /// The grid's name for the job: `-N`, else the program's file name up to its first dot
    /// (`bot.py` → `bot`, `/usr/bin/python3` → `python3`), as jsub named it.
    public var gridName: String { name ?? GridJobName.derived(fromProgram: program) }
}

import KilnCore

/// A grid-era job as a Kiln job: what `jsub` (and a crontab line calling it) asked for, declared
/// with Toolforge's keys. Both `jsub` itself and `jobs import-crontab` make their `JobSpec` here,
/// so that one job reads the same either way.
public struct GridJob: Sendable, Hashable {
    public var options: JsubOptions
    /// The Kiln job's name.
    public var name: String
    /// The program and its arguments as shell text (quoted words, or a crontab's text as written).
    public var command: String
    /// Where it runs: a path (absolute, `~/…`, or relative to the home); nil for the home itself.
    public var directory: String?
    /// Values of `-v` variables given bare (`-v NAME`), from the caller's environment.
    public var environment: [String: String]
    public var schedule: String?
    public var timeZone: String?
    public var emails: JobSpec.Emails
    /// Folders to look for programs in before the image's (a crontab's `PATH=`).
    public var pathPrefix: String?

    /// Grid jobs ran on the hosts' own Debian: the image that is that here.
    public static let image = "bookworm"

    /// Folders on every host's PATH, the job's too: programs there need no folder named.
    public static let systemPath: Set<String> = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    public init(
        options: JsubOptions, name: String, command: String, directory: String? = nil, environment: [String: String] = [:],
        schedule: String? = nil, timeZone: String? = nil, emails: JobSpec.Emails = .none
    ) {
        self.options = options
        self.name = name
        self.command = command
        self.directory = directory
        self.environment = environment
        self.schedule = schedule
        self.timeZone = timeZone
        self.emails = emails
        pathPrefix = nil
    }

    /// The declaration, checked (`JobSpec.validate()`).
    public func spec() throws(KilnError) -> JobSpec {
        let output = logPath(options.output, suffix: ".out")
        var error = logPath(options.error, suffix: ".err")
        if options.joinsErrors {
            // -j y: errors in the output's file, wherever that is (jsub's default is GRIDNAME.out).
            error = LogPath(path: output.path ?? options.gridName + ".out", discarded: output.discarded)
        }
        var spec = JobSpec(
            name: name, command: try shellCommand(discarding: (output.discarded, error.discarded)),
            image: Self.image, schedule: options.continuous ? nil : schedule, continuous: options.continuous, emails: emails,
            memory: options.memory)
        spec.timeZone = spec.schedule == nil ? nil : timeZone
        // The grid's task queue had no run time limit: the longest a run may have here, unless -l h_rt said.
        spec.timeout = options.continuous ? nil : options.timeout ?? JobSpec.maximumTimeout
        if output.discarded && error.discarded {
            spec.filelog = false
        } else {
            spec.filelogStdout = output.discarded ? nil : output.path
            spec.filelogStderr = error.discarded ? nil : error.path
        }
        try spec.validate()
        return spec
    }

    /// Where a stream goes: `/dev/null` (discarded), a path given, or, when the Kiln name is not the
    /// grid's, `GRIDNAME.out`/`.err` in the home, where jsub put it (nil: Kiln's default, the same).
    struct LogPath {
        var path: String?
        var discarded: Bool
    }

    func logPath(_ given: String?, suffix: String) -> LogPath {
        guard let given else {
            let grid = options.gridName
            return LogPath(path: grid == name ? nil : grid + suffix, discarded: false)
        }
        if given == "/dev/null" { return LogPath(path: nil, discarded: true) }
        return LogPath(path: Self.resolve(given, in: directory), discarded: false)
    }

    /// A path the job names, from where it runs: relative ones are relative to `directory`.
    public static func resolve(_ path: String, in directory: String?) -> String {
        guard let directory, !path.hasPrefix("/"), !path.hasPrefix("~") else { return path }
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2).drop { $0 == "/" } }
        if path.isEmpty || path == "." { return directory }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// `[cd DIR &&] [PATH=…:"$PATH"] [NAME=VALUE …] COMMAND [<INPUT] [>/dev/null] [2>/dev/null]`.
    func shellCommand(discarding streams: (output: Bool, error: Bool)) throws(KilnError) -> String {
        var words: [String] = []
        if let pathPrefix { words.append("PATH=" + ShellWords.quote(pathPrefix) + #":"$PATH""#) }
        for variable in options.variables {
            guard let value = variable.value ?? environment[variable.name] else {
                throw KilnError(
                    .badRequest, "-v \(variable.name) takes its value from the environment, where it is not set",
                    context: ["field": "-v", "value": variable.name])
            }
            words.append(variable.name + "=" + ShellWords.quote(value))
        }
        words.append(command)
        if let input = options.input { words.append("<" + ShellWords.quotePath(input)) }
        // One stream to nowhere: sh discards it; the other keeps its file.
        if streams.output && !streams.error { words.append(">/dev/null") }
        if streams.error && !streams.output { words.append("2>/dev/null") }
        let text = words.joined(separator: " ")
        guard let directory else { return text }
        return "cd " + ShellWords.quotePath(directory) + " && " + text
    }
}

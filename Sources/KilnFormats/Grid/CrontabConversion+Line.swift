import KilnCore

extension CrontabConversion {
    /// A crontab command calling jsub, read: where cron ran it (`cd DIR &&`), the options, and the
    /// program with its arguments as the line wrote them.
    struct Call {
        var invocation: JsubOptions.Invocation
        /// Where cron was when it called jsub: the home (`~`), or the folder of a `cd DIR &&` before it.
        var cronDirectory: String
        var options: JsubOptions
        /// The program and its arguments as written in the line (quotes and all).
        var commandText: String
    }

    /// Converts one job line, or throws why it cannot be.
    mutating func add(schedule: String, command: String, line: Int, state: inout State) throws(KilnError) {
        let call = try Self.read(command)
        let options = call.options
        if schedule == "@reboot", !options.continuous {
            throw KilnError(
                .badRequest, "@reboot runs it once when the host starts, which Kiln's jobs do not do (jstart would be a continuous job)")
        }
        if !options.continuous {
            do { _ = try CronSchedule(parsing: schedule) } catch { throw KilnError(.badRequest, error.message) }
        }
        let gridName = options.gridName
        if options.continuous, let first = state.continuous[gridName] {
            warn(line, "not converted: the continuous job '\(first.name)' of line \(first.line) is this job already (\(call.invocation.rawValue) keeps one running)")
            return
        }
        let base = GridJobName.sanitized(gridName)
        if base != gridName {
            warn(line, "'\(gridName.debugDescriptionPrefix)' is not a name Kiln takes: the job is named '\(base)'; its logs keep their names")
        }
        var number = 1
        while state.names.contains(GridJobName.numbered(base, number)) { number += 1 }
        let name = GridJobName.numbered(base, number)

        var job = GridJob(
            options: options, name: name, command: try Self.program(of: call), directory: Self.directory(of: call),
            environment: state.environment, schedule: options.continuous ? nil : schedule, timeZone: state.timeZone,
            emails: state.emails)
        job.pathPrefix = state.pathPrefix
        let spec = try job.spec()
        state.names.insert(name)
        if options.continuous { state.continuous[gridName] = (name, line) }
        jobs.append(spec)
        lines[name] = line
    }

    /// Where the job runs: the home (nil), cron's folder (`-cwd`), or `-wd DIR` from cron's folder.
    static func directory(of call: Call) -> String? {
        switch call.options.workingDirectory {
        case .home: return nil
        case .current: return call.cronDirectory == "~" ? nil : call.cronDirectory
        case .path(let path): return GridJob.resolve(expandingHome(path), in: call.cronDirectory)
        }
    }

    /// The command's text. jsub found a relative program (`./run.sh`, `bin/bot`) from where cron
    /// was; when the job runs elsewhere, the program is named from there.
    static func program(of call: Call) throws(KilnError) -> String {
        let program = call.options.program
        let runsIn = directory(of: call) ?? "~"
        guard program.contains("/"), !program.hasPrefix("/"), !program.hasPrefix("~"), !program.hasPrefix("$"),
            runsIn != call.cronDirectory
        else { return call.commandText }
        // The first word, rewritten; the rest of the text as written.
        let arguments = call.commandText.dropFirst(Self.firstWordLength(call.commandText))
        return ShellWords.quotePath(GridJob.resolve(program, in: call.cronDirectory)) + arguments
    }

    /// The length of the text's first word as written (quotes included).
    static func firstWordLength(_ text: String) -> Int {
        guard let first = try? ShellWords.tokens(text).first else { return 0 }
        return text.distance(from: text.startIndex, to: first.range.upperBound)
    }

    /// `$HOME/x` and `${HOME}/x` as `~/x` (cron's HOME is the tool's home).
    static func expandingHome(_ path: String) -> String {
        for prefix in ["$HOME", "${HOME}"] where path == prefix || path.hasPrefix(prefix + "/") {
            return "~" + path.dropFirst(prefix.count)
        }
        return path
    }

    /// A folder cron's shell went to: relative ones are from the home, where cron starts.
    static func homeRelative(_ path: String) -> String {
        let path = expandingHome(path)
        if path.hasPrefix("/") || path.hasPrefix("~") { return path }
        return path == "." ? "~" : "~/" + path
    }
}

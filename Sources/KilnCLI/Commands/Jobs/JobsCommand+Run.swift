import ArgumentParser
import Foundation
import KilnAPI
import KilnCore

extension JobsCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Declare a job and run it: once, on a schedule, or continuously.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The job's name (lower-case letters, digits, '-').") var name: String
        @Option(help: "The command, run by a shell in the tool's home.") var command: String
        @Option(help: "The image (see `kiln jobs images`).") var image: String
        @Option(help: "Run on this cron schedule (five fields, or @hourly, @daily, @weekly, @monthly, @yearly).")
        var schedule: String?
        @Option(help: "The time zone the schedule is read in (IANA name; default UTC).") var timezone: String?
        @Flag(help: "Keep it running: restart it when it exits.") var continuous = false
        @Option(help: "Wait for the run to end (at most SECONDS, 600 without a value) and exit with its code.")
        var wait: Int?
        @Option(help: "Mail the maintainers: none, all, onfinish, onfailure.") var emails: String = "none"
        @Option(help: "Memory, as 512Mi or 1Gi.") var mem: String?
        @Option(help: "CPU, in cores (0.5) or millicores (500m).") var cpu: String?
        @Option(help: "Re-run a failed run up to N times (0 to 5).") var retry: Int = 0
        // Two flags rather than one with an inversion, so that giving both is an error that says so.
        @Flag(name: .customLong("filelog"), help: "Keep output in ~/NAME.out and ~/NAME.err (the default).") var filelog = false
        @Flag(name: .customLong("no-filelog"), help: "Discard the job's output.") var noFilelog = false
        @Option(name: [.customShort("o"), .customLong("filelog-stdout")], help: "Where output goes (relative to the tool's home).")
        var filelogStdout: String?
        @Option(name: [.customShort("e"), .customLong("filelog-stderr")], help: "Where errors go (relative to the tool's home).")
        var filelogStderr: String?
        @Option(help: "all or none: whether the job starts in the tool's home (default: all; none for the tool's own images).") var mount: String?
        @Option(help: "Seconds a run may take (default 1200, at most 86400).") var timeout: Int?
        @Option(
            name: [.customShort("p"), .long],
            help: "Continuous jobs: the port it is reached at, as 8080 or 8080/tcp (it listens on $PORT).")
        var port: String?
        @Option(help: "Continuous jobs: how many copies run.") var replicas: Int?
        @Option(name: .customLong("health-check-script"), help: "Continuous jobs: a command that succeeds while it is healthy.")
        var healthCheckScript: String?
        @Option(
            name: .customLong("health-check-http"),
            help: "Continuous jobs with --port: a path whose GET answers 2xx or 3xx while it is healthy.")
        var healthCheckHTTP: String?

        static let defaultWait = 600

        /// `--wait` takes an optional value, as Toolforge's does: bare, it waits the default time.
        static func expandingBareWait(_ arguments: [String]) -> [String] {
            guard arguments.contains("jobs"), arguments.contains("run") else { return arguments }
            var expanded: [String] = []
            for (index, argument) in arguments.enumerated() {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if argument == "--wait", next.flatMap(Int.init) == nil {
                    expanded.append("--wait=\(defaultWait)")
                } else {
                    expanded.append(argument)
                }
            }
            return expanded
        }

        func spec() throws -> JobSpec {
            try checkExclusiveOptions()
            guard let emails = JobSpec.Emails(rawValue: emails) else {
                throw ValidationError("--emails is one of none, all, onfinish, onfailure")
            }
            guard let mount = mount.map(JobSpec.Mount.init(rawValue:)) ?? .default(for: image) else {
                throw ValidationError("--mount is all or none")
            }
            let result = Result { () throws(KilnError) -> JobSpec in try declaration(emails: emails, mount: mount) }
            switch result {
            case .success(let spec):
                return spec
            case .failure(let error):
                throw ValidationError(error.context["field"].map { "--\($0): \(error.message)" } ?? error.message)
            }
        }

        func declaration(emails: JobSpec.Emails, mount: JobSpec.Mount) throws(KilnError) -> JobSpec {
            var memory: MemorySize?
            var cpuQuantity: CPUQuantity?
            if let mem { memory = try MemorySize(parsing: mem) }
            if let cpu { cpuQuantity = try CPUQuantity(parsing: cpu) }
            var jobPort: JobPort?
            if let port { jobPort = try JobPort(parsing: port) }
            let spec = JobSpec(
                name: name, command: command, image: image, schedule: schedule, continuous: continuous, retry: retry,
                emails: emails, memory: memory, cpu: cpuQuantity, filelog: !noFilelog, filelogStdout: filelogStdout,
                filelogStderr: filelogStderr, mount: mount, timeout: timeout, port: jobPort?.number, replicas: replicas,
                healthCheckScript: healthCheckScript, timeZone: timezone, portProtocol: jobPort?.portProtocol ?? .tcp,
                healthCheckHTTP: healthCheckHTTP)
            try spec.validate()
            return spec
        }

        /// Options that say opposite things, refused as Toolforge's argparse groups refuse them
        /// (usage errors, exit 2), each naming both options.
        func checkExclusiveOptions() throws {
            if filelog && noFilelog { throw ValidationError("argument --no-filelog: not allowed with argument --filelog") }
            if noFilelog, filelogStdout != nil || filelogStderr != nil {
                let given = filelogStdout != nil ? "--filelog-stdout" : "--filelog-stderr"
                throw ValidationError("argument \(given): not allowed with argument --no-filelog (the job keeps no file log)")
            }
            if healthCheckScript != nil && healthCheckHTTP != nil {
                throw ValidationError("argument --health-check-http: not allowed with argument --health-check-script")
            }
            if healthCheckHTTP != nil && port == nil {
                throw ValidationError("--health-check-http requires --port to be set as well")
            }
        }

        func validate() throws {
            _ = try spec()
            if let wait {
                guard wait > 0 else { throw ValidationError("--wait is a number of seconds") }
                if schedule != nil || continuous { throw ValidationError("--wait goes only with a one-off job") }
            }
        }

        func run() async throws {
            let context = try await Context.make(connection)
            let response: JobResponse = try await JobsCommand.toolforgeErrors {
                try await context.client.post(context.base + "/jobs", try spec())
            }
            JobsCommand.warn(response.warnings)
            guard let wait, let run = response.job.runs.first else { return }
            let finished = try await waitForEnd(of: run, context: context, seconds: wait)
            guard finished.isFinished else {
                throw CLIError.toolforge(.user("timed out after \(wait) seconds waiting for job '\(name)' to complete"))
            }
            let code = Self.exitCode(of: finished)
            if code != 0 { ToolforgeLog.write(.error, "job '\(name)' \(finished.summary)") }
            throw JobExit(code: code)
        }

        func waitForEnd(of run: JobRun, context: Context, seconds: Int) async throws -> JobRun {
            let deadline = ContinuousClock.now + .seconds(seconds)
            var run = run
            while !run.isFinished, ContinuousClock.now < deadline {
                let left = max(1, min(30, Int((deadline - ContinuousClock.now).components.seconds)))
                let response: JobRunResponse = try await JobsCommand.toolforgeErrors {
                    try await context.client.get(context.job(name) + "/runs/\(run.id)?wait=\(left)")
                }
                run = response.run
            }
            return run
        }

        /// The shell's convention: the job's code, 128 + a signal; 124 for a timeout (as
        /// timeout(1)), 127 for a command that could not start.
        static func exitCode(of run: JobRun) -> Int32 {
            if run.outcome?.result == .timedOut { return 124 }
            if run.outcome?.result == .succeeded { return 0 }
            switch run.lastStatus {
            case .exited(let code)?: return code
            case .signaled(let signal)?: return 128 + signal
            case .outOfMemory?: return 128 + 9
            case .couldNotStart?: return 127
            default: return 1
            }
        }
    }
}

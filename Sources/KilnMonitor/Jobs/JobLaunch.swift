import KilnBuilds
import KilnCore
import KilnRunner

#if canImport(Glibc)
import Glibc
#endif

/// Everything needed to start a job's attempts, fixed when the job is declared: the tool's
/// account and home, the declaration, its image and schedule.
struct JobLaunch: Sendable {
    var tool: Tool
    var home: String
    var record: JobRecord
    var image: JobImage
    var schedule: CronSchedule?
    var environments: ToolEnvironments
    /// Where a built image is found at each start (its newest build, for `latest`).
    var images: ImageStore?

    var spec: JobSpec { record.spec }
    var key: JobKey { JobKey(tool: tool.name, job: spec.name) }
    /// Whose listeners the job's replicas' ports must be: its processes run as the tool's user.
    var backendOwner: BackendOwner { .processes(of: tool.unixUser, serverUID: geteuid()) }

    /// The submission of an attempt of `run`; a continuous job's replica gets its `port`.
    func submission(run: JobRun, attempt: Int, port: Int? = nil) throws(KilnError) -> JobSubmission {
        let logs = try JobLogPaths(spec: spec, tool: tool.name, home: home)
        var environment: [String: String] = [:]
        if let port { environment["PORT"] = String(port) }
        if let replica = run.replica { environment["KILN_REPLICA"] = String(replica) }
        var image = self.image
        var command = spec.command
        var workingDirectory = spec.mount == .none ? "/" : home
        if let built = image.built {
            // Each attempt runs the newest build: a new image is taken up at the next start.
            guard let images else {
                throw KilnError(.unavailable, "image '\(built)' is built by the tool itself: this platform has no build service")
            }
            let launch = try images.manifest(of: built, for: tool.name).launch
            image.launch = launch
            image.runtime = launch.language.runtime
            command = launch.shellCommand(for: spec.command)
            if spec.mount == .none { workingDirectory = launch.workingDirectory }
        }
        return JobSubmission(
            tool: tool.name, job: spec.name, runID: run.id, attempt: attempt, command: command, image: image,
            user: tool.unixUser, home: home, workingDirectory: workingDirectory, output: logs.output,
            error: logs.error, memory: spec.effectiveMemory, cpu: spec.effectiveCPU,
            timeout: spec.continuous ? nil : spec.effectiveTimeout, environment: environment,
            toolEnvironment: environments.of(tool.name))
    }
}

struct JobKey: Hashable, Sendable, CustomStringConvertible {
    var tool: ToolName
    var job: String
    var description: String { "\(tool)/\(job)" }
}

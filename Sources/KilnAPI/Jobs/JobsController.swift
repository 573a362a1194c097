import Foundation
import Hummingbird
import KilnCore
import KilnFiles
import KilnFormats
import KilnRunner

/// `/v1/tools/{tool}/jobs…`: a tool's jobs. Every route is for one tool, which the caller must be
/// (or an admin): another tool's jobs cannot be seen, changed or read.
struct JobsController {
    let control: any JobControl
    /// The tool's home, where its jobs' logs are.
    let filesOf: @Sendable (ToolName) async throws(KilnError) -> ConfinedDirectory

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/v1/jobs/images", use: images)
        router.get("/v1/tools/{tool}/jobs", use: list)
        router.post("/v1/tools/{tool}/jobs", use: create)
        router.delete("/v1/tools/{tool}/jobs", use: flush)
        router.post("/v1/tools/{tool}/jobs/load", use: load)
        router.get("/v1/tools/{tool}/job-quota", use: quota)
        router.get("/v1/tools/{tool}/jobs/{job}", use: show)
        router.delete("/v1/tools/{tool}/jobs/{job}", use: delete)
        router.post("/v1/tools/{tool}/jobs/{job}/restart", use: restart)
        router.get("/v1/tools/{tool}/jobs/{job}/runs/{run}", use: run)
        router.get("/v1/tools/{tool}/jobs/{job}/logs", use: logs)
    }

    @Sendable func images(_ request: Request, context: KilnRequestContext) async throws -> JobImagesResponse {
        _ = try context.caller()
        return JobImagesResponse(images: control.images())
    }

    @Sendable func list(_ request: Request, context: KilnRequestContext) async throws -> JobListResponse {
        JobListResponse(jobs: try await control.list(tool: try context.authorizedTool()))
    }

    @Sendable func create(_ request: Request, context: KilnRequestContext) async throws -> EditedResponse<JobResponse> {
        let tool = try context.authorizedTool()
        let spec = try await request.decode(as: JobSpec.self, context: context)
        let (status, warnings) = try await control.create(tool: tool, spec: spec)
        return EditedResponse(status: .created, response: JobResponse(job: status, warnings: warnings))
    }

    @Sendable func show(_ request: Request, context: KilnRequestContext) async throws -> JobResponse {
        let tool = try context.authorizedTool()
        return JobResponse(job: try await control.show(tool: tool, job: try jobName(context)), warnings: [])
    }

    @Sendable func delete(_ request: Request, context: KilnRequestContext) async throws -> JobDeletedResponse {
        let tool = try context.authorizedTool()
        let job = try jobName(context)
        try await control.delete(tool: tool, job: job)
        return JobDeletedResponse(deleted: [job])
    }

    @Sendable func flush(_ request: Request, context: KilnRequestContext) async throws -> JobDeletedResponse {
        JobDeletedResponse(deleted: try await control.flush(tool: try context.authorizedTool()))
    }

    @Sendable func restart(_ request: Request, context: KilnRequestContext) async throws -> JobResponse {
        let tool = try context.authorizedTool()
        return JobResponse(job: try await control.restart(tool: tool, job: try jobName(context)), warnings: [])
    }

    /// The file's text is parsed here, so every client gets the same errors (file, line, job,
    /// field) and nothing changes unless the whole file is good.
    @Sendable func load(_ request: Request, context: KilnRequestContext) async throws -> JobLoadResponse {
        let tool = try context.authorizedTool()
        let body = try await request.decode(as: LoadJobsRequest.self, context: context)
        let fileName = body.fileName ?? JobsFile.fileName
        let file = try JobsFile.parse(body.text, fileName: fileName, strict: body.strict ?? false)
        if let only = body.job { try JobName.validate(only) }
        var plan: JobLoadPlan
        do throws(KilnError) {
            plan = try await control.load(tool: tool, specs: file.jobs, only: body.job, dryRun: body.dryRun ?? false)
        } catch {
            // A value only the runner checks (an unknown image) is named by its line too.
            throw file.locating(error, fileName: fileName)
        }
        plan.warnings = file.warnings.map { "\(body.fileName ?? JobsFile.fileName) line \($0.line)\($0.job.map { ", job '\($0)'" } ?? ""), \($0.field): \($0.message)" } + plan.warnings
        return JobLoadResponse(plan: plan, dryRun: body.dryRun ?? false)
    }

    @Sendable func quota(_ request: Request, context: KilnRequestContext) async throws -> JobQuotaReport {
        try await control.quota(tool: try context.authorizedTool())
    }

    /// The longest `?wait=` waits; a longer one waits this long.
    static let maximumWait = Duration.seconds(60)

    /// `?wait=SECONDS` (at most 60) returns once the run is finished or the time has passed.
    @Sendable func run(_ request: Request, context: KilnRequestContext) async throws -> JobRunResponse {
        let tool = try context.authorizedTool()
        let job = try jobName(context)
        guard let id = context.parameters.get("run").flatMap({ Int64($0) }) else {
            throw KilnError(.badRequest, "a run is named by its number")
        }
        let wait = try request.uri.queryParameters.get("wait").map { text throws(KilnError) in
            // NaN and infinities are refused here: Duration(seconds:) of them would trap.
            guard let seconds = Double(text), seconds.isFinite, seconds >= 0 else {
                throw KilnError(.badRequest, "wait must be a number of seconds, not '\(text)'", context: ["field": "wait"])
            }
            return seconds < 60 ? Duration.seconds(seconds) : Self.maximumWait
        } ?? .zero
        return JobRunResponse(run: try await control.waitForRun(tool: tool, job: job, runID: id, timeout: wait))
    }

    /// `?stream=out|err` (default out), and either `lines=N` or `offset=BYTES` (for following).
    @Sendable func logs(_ request: Request, context: KilnRequestContext) async throws -> WebserviceLogsResponse {
        let tool = try context.authorizedTool()
        let job = try jobName(context)
        let parameters = request.uri.queryParameters
        let streamName = parameters.get("stream") ?? "out"
        guard let stream = LogStream(rawValue: streamName) else {
            throw KilnError(.badRequest, "stream must be out or err, not '\(streamName)'")
        }
        let paths = try await control.logPaths(tool: tool, job: job)
        guard let path = stream == .out ? paths.output : paths.error else {
            throw KilnError(.notFound, "job '\(job)' keeps no log files (it was declared with no-filelog)", context: ["job": job])
        }
        return try LogWindow.read(LogFile(in: try await filesOf(tool), at: path), parameters: parameters)
    }

    func jobName(_ context: KilnRequestContext) throws -> String {
        let name = context.parameters.get("job") ?? ""
        try JobName.validate(name)
        return name
    }
}

public struct LoadJobsRequest: Codable, Sendable {
    public var text: String
    public var fileName: String?
    public var job: String?
    public var dryRun: Bool?
    public var strict: Bool?

    public init(text: String, fileName: String?, job: String?, dryRun: Bool, strict: Bool) {
        self.text = text
        self.fileName = fileName
        self.job = job
        self.dryRun = dryRun
        self.strict = strict
    }
}

public struct JobResponse: Codable, Sendable, ResponseEncodable {
    public var job: JobStatus
    public var warnings: [String]
}

public struct JobListResponse: Codable, Sendable, ResponseEncodable {
    public var jobs: [JobStatus]
}

public struct JobDeletedResponse: Codable, Sendable, ResponseEncodable {
    public var deleted: [String]
}

public struct JobLoadResponse: Codable, Sendable, ResponseEncodable {
    public var plan: JobLoadPlan
    public var dryRun: Bool
}

public struct JobRunResponse: Codable, Sendable, ResponseEncodable {
    public var run: JobRun
}

public struct JobImagesResponse: Codable, Sendable, ResponseEncodable {
    public var images: [JobImageReport]
}

extension JobQuotaReport: ResponseEncodable {}

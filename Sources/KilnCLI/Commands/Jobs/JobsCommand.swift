import ArgumentParser
import Foundation
import KilnAPI
import KilnCore
import KilnFormats

/// `kiln jobs …` (also `kiln toolforge jobs …` and `toolforge jobs …`): the words and output of
/// Toolforge's `jobs`, whose users have scripts around them.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Run one-off, scheduled and continuous jobs.",
        subcommands: [
            Run.self, List.self, Show.self, Logs.self, Delete.self, Flush.self, Restart.self, Load.self, Dump.self,
            Images.self, Quota.self, ImportCrontab.self,
        ])

    /// What every jobs subcommand shares: the connection, and the tool's API path.
    struct Context {
        let client: APIClient
        let base: String

        static func make(_ connection: ConnectionOptions) async throws -> Context {
            let client = try connection.client()
            let tool = try await toolforgeErrors { try await connection.resolveTool(using: client) }
            return Context(client: client, base: "/v1/tools/\(PathComponent.escape(tool))")
        }

        func job(_ name: String) -> String { base + "/jobs/" + PathComponent.escape(name) }
    }

    /// Errors said as Toolforge's `jobs` says them: `ERROR: Error: Job 'NAME' does not exist`.
    static func toolforgeErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CLIError {
            if case .toolforge = error { throw error }
            throw CLIError.toolforge(error)
        }
    }

    static func warn(_ warnings: [String]) {
        for warning in warnings { ToolforgeLog.write(.warning, warning) }
    }
}

/// `jobs run --wait` ends with the job's exit code.
struct JobExit: Error {
    var code: Int32
}

extension JobsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tool's jobs.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var format: OutputOptions
        @Option(name: [.customShort("o"), .long], help: "normal, long (every field) or name (one name a line).")
        var output: JobsRendering.ListOutput = .normal
        @Flag(name: [.short, .long], help: "The same as --output long.") var long = false

        func run() async throws {
            let context = try await Context.make(connection)
            let response: JobListResponse = try await JobsCommand.toolforgeErrors { try await context.client.get(context.base + "/jobs") }
            if format.json { return try JSONOutput.print(response.jobs) }
            guard !response.jobs.isEmpty else { return }
            print(JobsRendering.list(response.jobs, as: long ? .long : output))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a job, with its latest runs.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The job's name.") var name: String

        func run() async throws {
            let context = try await Context.make(connection)
            let response: JobResponse = try await JobsCommand.toolforgeErrors { try await context.client.get(context.job(name)) }
            if output.json { return try JSONOutput.print(response.job) }
            print(JobsRendering.show(response.job))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Stop a job and forget it.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The job's name.") var name: String

        func run() async throws {
            let context = try await Context.make(connection)
            let _: JobDeletedResponse = try await JobsCommand.toolforgeErrors { try await context.client.delete(context.job(name)) }
        }
    }

    struct Flush: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "flush", abstract: "Delete all of the tool's jobs.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let context = try await Context.make(connection)
            let _: JobDeletedResponse = try await JobsCommand.toolforgeErrors { try await context.client.delete(context.base + "/jobs") }
        }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restart", abstract: "Stop what runs of a job and start it again.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The job's name.") var name: String

        func run() async throws {
            let context = try await Context.make(connection)
            let _: JobResponse = try await JobsCommand.toolforgeErrors {
                try await context.client.post(context.job(name) + "/restart", APIClient.Empty())
            }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a job's output and error logs.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The job's name.") var name: String
        @Flag(name: .shortAndLong, help: "Keep printing what is appended.") var follow = false
        @Option(name: [.customShort("l"), .long], help: "How many lines from the end.") var last: Int = 100
        @Option(help: "out or err (both by default).") var stream: String?

        func validate() throws {
            if let stream, LogStream(rawValue: stream) == nil { throw ValidationError("--stream is out or err") }
            if last < 0 { throw ValidationError("--last is a number of lines") }
        }

        func run() async throws {
            let context = try await Context.make(connection)
            let streams = stream.flatMap(LogStream.init(rawValue:)).map { [$0] } ?? LogStream.allCases
            try await JobsCommand.toolforgeErrors {
                try await LogPrinter(client: context.client, path: context.job(name) + "/logs", label: { "\(name).\($0.rawValue)" })
                    .print(streams: streams, last: last, follow: follow)
            }
        }
    }

    struct Images: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "images", abstract: "The images jobs can run in.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try connection.client()
            let response: JobImagesResponse = try await JobsCommand.toolforgeErrors { try await client.get("/v1/jobs/images") }
            // The tool's own images beside the platform's (none when no tool is known: an admin).
            var images = response.images
            if let tool = try? await connection.resolveTool(using: client) {
                let own: ImageListResponse = try await JobsCommand.toolforgeErrors {
                    try await client.get("/v1/tools/\(PathComponent.escape(tool))/images")
                }
                for image in own.images where image.latest {
                    let repository = String(image.image.split(separator: ":").first ?? "")
                    images.append(JobImageReport(
                        shortName: repository + ":latest", containerImage: image.image, retired: false,
                        hostRuntime: "built by the tool (\(image.language), \(image.digest.prefix(19)))"))
                }
            }
            if output.json { return try JSONOutput.print(images) }
            // Toolforge's two columns first, as its CLI prints them; then what this host runs each on.
            let rows = images.map { image in
                [
                    image.shortName + (image.retired ? " (retired)" : ""), image.containerImage,
                    image.hostRuntime ?? "not available on this host",
                ]
            }
            print(Tabulate.render(rows, headers: ["Short name", "Container image URL", "Runs here on"], format: .pretty))
        }
    }

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "quota", abstract: "The tool's job quota and its use.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try await Context.make(connection)
            let report: JobQuotaReport = try await JobsCommand.toolforgeErrors { try await context.client.get(context.base + "/job-quota") }
            if output.json { return try JSONOutput.print(report) }
            var table = TextTable("Quota", "Used", "Limit")
            table.add("Jobs", String(report.usage.jobs), String(report.quota.jobs))
            table.add("Continuous jobs", String(report.usage.continuousJobs), String(report.quota.continuousJobs))
            // One budget for what runs all the time: continuous jobs and the webservice.
            table.add("Memory of continuous jobs", report.usage.continuousMemory.description, "-")
            table.add("CPU of continuous jobs", report.usage.continuousCPU.description, "-")
            table.add("Memory of the webservice", report.usage.webserviceMemory.description, "-")
            table.add("CPU of the webservice", report.usage.webserviceCPU.description, "-")
            table.add("Memory running (jobs and webservice)", report.usage.runningMemory.description, report.quota.continuousMemory.description)
            table.add("CPU running (jobs and webservice)", report.usage.runningCPU.description, report.quota.continuousCPU.description)
            table.add("Memory per job", "-", report.quota.memoryPerJob.description)
            table.add("CPU per job", "-", report.quota.cpuPerJob.description)
            print(table.render())
        }
    }
}


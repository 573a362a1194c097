import ArgumentParser
import Foundation
import KilnAPI
import KilnCore
import KilnFormats

/// `kiln build start|logs|list|show|cancel|delete|quota|clean` (also `toolforge build`): images
/// built from the tool's git repository, as Toolforge's build service makes them, run by jobs
/// (`--image tool-TOOL/NAME:latest`) and webservices (`buildservice`).
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build images from the tool's git repository, for its jobs and webservice.",
        subcommands: [Start.self, Logs.self, List.self, Show.self, Cancel.self, Delete.self, Quota.self, Clean.self])

    struct Context {
        let client: APIClient
        let tool: String
        var base: String { "/v1/tools/\(PathComponent.escape(tool))" }

        static func make(_ connection: ConnectionOptions) async throws -> Context {
            let client = try connection.client()
            return Context(client: client, tool: try await connection.resolveTool(using: client))
        }

        func build(_ id: String?) -> String { base + "/builds/" + PathComponent.escape(id ?? "latest") }
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "n/a" }
        return ISO8601DateFormatter().string(from: date)
    }

    static func details(_ build: BuildView) -> String {
        var block = KeyValueBlock()
        block.add("Build ID", build.buildId)
        block.add("Start Time", time(build.startTime))
        block.add("End Time", time(build.endTime))
        block.add("Status", build.status)
        block.add("Message", build.message)
        block.add("Source URL", build.sourceUrl)
        block.add("Ref", build.ref ?? "n/a")
        block.add("Envvars", build.envvars.isEmpty ? "n/a" : build.envvars.keys.sorted().map { "\($0)=\(build.envvars[$0] ?? "")" }.joined(separator: " "))
        block.add("Use latest versions", build.useLatestVersions ? "yes" : "no")
        block.add("Destination Image", build.destinationImage)
        if let digest = build.digest { block.add("Digest", digest) }
        return block.render()
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start", abstract: "Build an image from a git repository (a URL, or a path the tool can read).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The repository: https://…, git://…, file://… or a local path (default: the latest build's).")
        var sourceURL: String?
        @Option(name: .long, help: "Branch, tag or commit to build (default: the repository's default branch).") var ref: String?
        @Option(name: [.customShort("i"), .customLong("image-name")], help: "The image's name (default: the tool's).") var imageName: String?
        @Option(name: [.customShort("e"), .customLong("envvar")], help: "NAME=VALUE for the build's commands (repeatable).") var envvars: [String] = []
        @Flag(name: [.customShort("D"), .customLong("detach")], help: "Return at once rather than follow the build's log.") var detach = false
        @Flag(name: [.customShort("L"), .customLong("use-latest-versions")], help: "Resolve dependencies afresh, past the caches.")
        var useLatestVersions = false

        func run() async throws {
            var variables: [String: String] = [:]
            for pair in envvars {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--envvar takes NAME=VALUE, not '\(pair)'")
                }
                variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            let context = try await Context.make(connection)
            var source: String
            var ref = self.ref
            if let sourceURL {
                source = sourceURL
                // A local path is given as the tool sees it; made absolute here, where it was typed.
                if !source.contains("://"), !source.contains("@"), !source.hasPrefix("/") {
                    source = URL(fileURLWithPath: source, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
                }
            } else {
                // No repository named: the latest build's again (its ref too, unless another is given).
                let builds: BuildListResponse = try await context.client.get(context.base + "/builds")
                guard let latest = builds.builds.first else {
                    throw CLIError.user("name the repository to build: the tool has no build to take it from")
                }
                source = latest.sourceUrl
                ref = ref ?? latest.ref
            }
            let response: BuildResponse = try await context.client.post(
                context.base + "/builds",
                StartBuildRequest(sourceUrl: source, ref: ref, imageName: imageName, envvars: variables, useLatestVersions: useLatestVersions))
            if output.json && detach { return try JSONOutput.print(response) }
            if !output.json {
                print("Building '\(response.build.buildId)' into \(response.build.destinationImage)")
            }
            if detach {
                print("You can see the status with `kiln build show`, the logs with `kiln build logs`.")
                return
            }
            let ended = try await BuildCommand.follow(context, id: response.build.buildId, printing: !output.json)
            if output.json {
                try JSONOutput.print(ended)
            } else {
                print("Build \(ended.build.buildId): \(ended.build.status): \(ended.build.message)")
            }
            if ended.build.status != "BUILD_SUCCESS" { throw ExitCode(1) }
        }
    }

    /// Prints the build's log as it grows, until the build has ended; returns how it ended.
    static func follow(_ context: Context, id: String, printing: Bool, last: Int? = nil) async throws -> BuildResponse {
        let path = context.build(id) + "/logs"
        var logs: BuildLogsResponse = try await context.client.get(last.map { "\(path)?lines=\($0)" } ?? "\(path)?offset=0")
        while true {
            if printing { print(logs.text, terminator: "") }
            if logs.ended {
                // What was written between the read and the end.
                let rest: BuildLogsResponse = try await context.client.get("\(path)?offset=\(logs.nextOffset)")
                if printing { print(rest.text, terminator: "") }
                return try await context.client.get(context.build(id))
            }
            try await Task.sleep(for: .milliseconds(500))
            logs = try await context.client.get("\(path)?offset=\(logs.nextOffset)")
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "logs", abstract: "A build's log (the latest build's by default).")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "TOOL-build-N, N, or latest.") var build: String?
        @Flag(name: [.short, .long], help: "Follow the log until the build ends.") var follow = false

        func run() async throws {
            let context = try await Context.make(connection)
            let id = build ?? "latest"
            if follow {
                _ = try await BuildCommand.follow(context, id: id, printing: true)
                return
            }
            let logs: BuildLogsResponse = try await context.client.get(context.build(id) + "/logs?lines=100000")
            FileHandle.standardOutput.write(Data(logs.text.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The tool's builds, newest first.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try await Context.make(connection)
            let response: BuildListResponse = try await context.client.get(context.base + "/builds")
            if output.json { return try JSONOutput.print(response) }
            let rows = response.builds.map { build in
                [build.buildId, build.status, BuildCommand.time(build.startTime), BuildCommand.time(build.endTime), build.sourceUrl,
                 build.ref ?? "", build.destinationImage]
            }
            print(Tabulate.render(rows, headers: ["build_id", "status", "start_time", "end_time", "source_url", "ref", "destination_image"], format: .plain))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One build (the latest by default).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "TOOL-build-N, N, or latest.") var build: String?

        func run() async throws {
            let context = try await Context.make(connection)
            let response: BuildResponse = try await context.client.get(context.build(build))
            if output.json { return try JSONOutput.print(response) }
            print(BuildCommand.details(response.build))
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Stop a build under way.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "TOOL-build-N, N, or latest.") var build: String?
        @Flag(help: "Do not ask for confirmation.") var yesImSure = false

        func run() async throws {
            let context = try await Context.make(connection)
            let response: BuildResponse = try await context.client.post(context.build(build) + "/cancel", APIClient.Empty())
            if output.json { return try JSONOutput.print(response) }
            print("Cancelled \(response.build.buildId): \(response.build.message)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete ended builds' records and logs (not their images).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "TOOL-build-N or N.") var builds: [String] = []
        @Flag(help: "Every ended build.") var all = false
        @Flag(help: "Do not ask for confirmation.") var yesImSure = false

        func validate() throws {
            guard all != !builds.isEmpty else { throw ValidationError("name builds to delete, or --all") }
        }

        func run() async throws {
            let context = try await Context.make(connection)
            var deleted: [BuildView] = []
            if all {
                let response: BuildListResponse = try await context.client.delete(context.base + "/builds")
                deleted = response.builds
            } else {
                for build in builds {
                    let response: BuildListResponse = try await context.client.delete(context.build(build))
                    deleted += response.builds
                }
            }
            if output.json { return try JSONOutput.print(BuildListResponse(builds: deleted)) }
            for build in deleted { print("Deleted \(build.buildId)") }
        }
    }

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "quota", abstract: "The tool's build quota and its use.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let context = try await Context.make(connection)
            let response: BuildQuotaResponse = try await context.client.get(context.base + "/build-quota")
            if output.json { return try JSONOutput.print(response) }
            let quota = response.quota
            var table = TextTable("Quota", "Used", "Limit")
            table.add("Images", String(quota.images), "\(quota.quota.imagesKept) per name")
            table.add("Image storage", MemorySize(bytes: quota.imageBytes).description, MemorySize(bytes: quota.quota.imageBytes).description + " per image")
            table.add("Builds kept", String(quota.builds), String(quota.quota.buildsKept))
            table.add("Build time", "", "\(quota.quota.seconds / 60) minutes")
            table.add("Build memory", "", quota.quota.memory)
            table.add("Build CPU", "", quota.quota.cpu)
            if let disk = quota.quota.diskBytes {
                table.add("Build disk", "", MemorySize(bytes: disk).description + " (image, clone, dependency cache, log)")
            }
            print(table.render())
        }
    }

    struct Clean: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "clean", abstract: "Delete all the tool's images, and its dependency cache.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "Do not ask for confirmation.") var yesImSure = false

        func run() async throws {
            let context = try await Context.make(connection)
            let response: ImageListResponse = try await context.client.delete(context.base + "/images")
            if output.json { return try JSONOutput.print(response) }
            print(response.images.isEmpty ? "No images to delete" : "Deleted \(response.images.count) images: \(response.images.map(\.image).joined(separator: ", "))")
        }
    }
}

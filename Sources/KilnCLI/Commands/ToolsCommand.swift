import ArgumentParser
import Foundation
import KilnAPI

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools", abstract: "Manage tool accounts.",
        subcommands: [Create.self, List.self, Show.self, Delete.self, Quota.self])

    /// `kiln tools quota TOOL [--jobs N] [--continuous N] [--mem SIZE] [--cpu N] [--reset]`: a
    /// tool's quota; changed (by the admin) when a flag is given.
    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a tool's quota, or change it (admin): jobs, continuous jobs, and the memory and CPU of what runs all the time.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        @Option(help: "Jobs the tool may declare.") var jobs: Int?
        @Option(help: "Continuous jobs the tool may declare.") var continuous: Int?
        @Option(help: "Memory of its continuous jobs and webservice together, as 8Gi.") var mem: String?
        @Option(help: "CPU of its continuous jobs and webservice together, in cores or millicores.") var cpu: String?
        @Flag(help: "Back to the platform's defaults.") var reset = false

        func validate() throws {
            if reset && (jobs != nil || continuous != nil || mem != nil || cpu != nil) {
                throw ValidationError("--reset goes alone")
            }
        }

        func run() async throws {
            let client = try connection.client()
            let path = "/v1/tools/\(PathComponent.escape(name))/quota"
            let response: ToolQuotaResponse
            if reset || jobs != nil || continuous != nil || mem != nil || cpu != nil {
                let change = ChangeQuotaRequest(jobs: jobs, continuousJobs: continuous, mem: mem, cpu: cpu, reset: reset ? true : nil)
                response = try await client.send(.PUT, path, body: change)
            } else {
                response = try await client.get(path)
            }
            if output.json { return try JSONOutput.print(response) }
            var block = KeyValueBlock()
            block.add("Tool", response.tool + (response.own ? " (its own quota)" : " (the platform's defaults)"))
            block.add("Jobs", String(response.quota.jobs))
            block.add("Continuous jobs", String(response.quota.continuousJobs))
            block.add("Memory running", response.quota.continuousMemory.description)
            block.add("CPU running", response.quota.continuousCPU.description)
            block.add("Memory per job", response.quota.memoryPerJob.description)
            block.add("CPU per job", response.quota.cpuPerJob.description)
            print(block.render())
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tool account (admin).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The tool's name: a DNS label, at most 32 characters.") var name: String
        @Option(name: .customLong("maintainer"), help: "A maintainer's user name (repeatable).")
        var maintainers: [String] = []

        struct Body: Encodable {
            var name: String
            var maintainers: [String]
        }

        func run() async throws {
            let client = try connection.client()
            let created: CreateToolResponse = try await client.post(
                "/v1/tools", Body(name: name, maintainers: maintainers))
            if output.json { return try JSONOutput.print(created) }
            print("Created tool '\(created.tool.name)'.")
            print("Home:       \(created.tool.home)")
            if let user = created.tool.unixUser { print("Unix user:  \(user)") }
            print("Token:      \(created.token)")
            print("Token file: \(created.tokenFile)")
            if let webservice = created.webservice { print("Webservice: \(webservice)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tool accounts.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let response: ToolListResponse = try await connection.client().get("/v1/tools")
            if output.json { return try JSONOutput.print(response.tools) }
            var table = TextTable("NAME", "UNIX USER", "MAINTAINERS", "CREATED")
            for tool in response.tools {
                table.add(
                    tool.name, tool.unixUser ?? "-", tool.maintainers.isEmpty ? "-" : tool.maintainers.joined(separator: ","),
                    Timestamp.format(tool.createdAt))
            }
            print(table.render())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tool account.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String

        func run() async throws {
            let tool: ToolResponse = try await connection.client().get("/v1/tools/\(PathComponent.escape(name))")
            if output.json { return try JSONOutput.print(tool) }
            var block = KeyValueBlock()
            block.add("Name", tool.name)
            block.add("Maintainers", tool.maintainers.isEmpty ? "-" : tool.maintainers.joined(separator: ", "))
            block.add("Unix user", tool.unixUser.map { "\($0) (uid \(tool.uid ?? 0), gid \(tool.gid ?? 0))" } ?? "-")
            block.add("Home", tool.home)
            block.add("Created", Timestamp.format(tool.createdAt))
            print(block.render())
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a tool account (admin); its home is archived.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String

        func run() async throws {
            let deleted: DeleteToolResponse = try await connection.client().delete("/v1/tools/\(PathComponent.escape(name))")
            if output.json { return try JSONOutput.print(deleted) }
            print("Deleted tool '\(deleted.deleted)'." + (deleted.archivedHome.map { " Its home is archived at \($0)." } ?? ""))
        }
    }
}

enum PathComponent {
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

enum Timestamp {
    static func format(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

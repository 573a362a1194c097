import ArgumentParser
import Foundation
import KilnAPI

struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes", abstract: "Register a tool's backends with the front proxy.",
        subcommands: [Add.self, Remove.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Route PATTERN of the tool's paths to HOST:PORT.",
            discussion: """
                A pattern may have several backends (a webservice's replicas): adding one keeps the \
                others and the proxy balances between them. --replace makes HOST:PORT the only one.
                """)
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "Make HOST:PORT the pattern's only backend.") var replace = false
        @Argument(help: "A regular expression matched against the path after /TOOL (usually '.*').") var pattern: String
        @Argument(help: "The backend, HOST:PORT.") var backend: String

        struct Body: Encodable {
            var pattern: String
            var backend: String
            var replace: Bool?
        }

        func run() async throws {
            let client = try connection.client()
            let tool = try await connection.resolveTool(using: client)
            let route: RouteResponse = try await client.post(
                "/v1/tools/\(PathComponent.escape(tool))/routes", Body(pattern: pattern, backend: backend, replace: replace ? true : nil))
            if output.json { return try JSONOutput.print(route) }
            print("Routed \(route.tool) '\(route.pattern)' to \(route.backend)\(replace ? " only" : "").")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the tool's route PATTERN (all its backends), or only its backend HOST:PORT.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument var pattern: String
        @Argument(help: "Only this backend of the pattern, HOST:PORT.") var backend: String?

        func run() async throws {
            let client = try connection.client()
            let tool = try await connection.resolveTool(using: client)
            var query = "pattern=\(PathComponent.escape(pattern))"
            if let backend { query += "&backend=\(PathComponent.escape(backend))" }
            let removed: RemoveRouteResponse = try await client.delete(
                "/v1/tools/\(PathComponent.escape(tool))/routes?\(query)")
            if output.json { return try JSONOutput.print(removed) }
            print("Removed route '\(removed.removed)'\(backend.map { " to \($0)" } ?? "") of \(tool).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tool's routes, one line per backend (the admin, without --tool: every tool's).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let client = try connection.client()
            var routes: [RouteResponse]
            if connection.tool == nil, (try await client.get("/v1/whoami", as: WhoAmIResponse.self)).tool == nil {
                let all: AllRoutesResponse = try await client.get("/v1/routes")
                routes = all.tools.keys.sorted().flatMap { all.tools[$0] ?? [] }
            } else {
                let tool = try await connection.resolveTool(using: client)
                routes = try await client.get("/v1/tools/\(PathComponent.escape(tool))/routes", as: RouteListResponse.self).routes
            }
            if output.json { return try JSONOutput.print(routes) }
            var table = TextTable("TOOL", "PATTERN", "BACKEND")
            for route in routes { table.add(route.tool, route.pattern, route.backend) }
            print(table.render())
        }
    }
}

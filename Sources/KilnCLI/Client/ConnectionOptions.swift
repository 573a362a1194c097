import ArgumentParser
import Foundation
import KilnAPI
import KilnServer

/// How a command finds the server: `KILN_URL` and `KILN_TOKEN`, or the Unix socket in `--data`.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "The platform's data directory (its socket is there).")
    var data: String = ServeDefaults.dataDirectory

    @Option(name: .long, help: "The tool to act for (default: the tool of your credential).")
    var tool: String?

    func client() throws -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["KILN_URL"], !url.isEmpty {
            return APIClient(endpoint: .url(url), token: environment["KILN_TOKEN"])
        }
        let socket = URL(fileURLWithPath: data).standardizedFileURL.path + "/" + ServeDefaults.socketName
        return APIClient(endpoint: .unixSocket(path: socket), token: environment["KILN_TOKEN"])
    }

    /// The tool a command acts on: `--tool`, else the caller's own tool.
    func resolveTool(using client: APIClient) async throws -> String {
        if let tool { return tool }
        let me: WhoAmIResponse = try await client.get("/v1/whoami")
        guard let own = me.tool else {
            throw CLIError.user("say which tool with --tool NAME (you are the admin, who acts on every tool)")
        }
        return own
    }
}

/// `--json` on every command that lists or shows.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false
}

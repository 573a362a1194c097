import Hummingbird
import KilnCore
import KilnFormats
import KilnRunner

/// `GET /v1/tools/{tool}/webservice/shell?type=TYPE`: what `kiln webservice shell` needs to
/// start an interactive shell as the tool, in its home, with the type's runtime first on `PATH`
/// and the tool's envvars set. The shell itself runs where the caller is, with the caller's
/// rights (the tool's user, or root entering the tool's through kiln-enter): the API only says
/// what environment the tool's servers get.
extension WebservicesController {
    @Sendable func shell(_ request: Request, context: KilnRequestContext) async throws -> WebserviceShellResponse {
        let tool = try context.authorizedTool()
        guard let record = try await toolOf(tool) else {
            throw KilnError(.notFound, "tool '\(tool)' does not exist", context: ["tool": tool.rawValue])
        }
        let type = try await shellType(request.uri.queryParameters.get("type"), tool: tool)
        let home = try await filesOf(tool).path
        let defaults = ["PATH": WebserviceLaunch.defaultPath, "LANG": "C.UTF-8", "TERM": "xterm"].merging(
            try WebserviceLaunch.runtimeEnvironment(of: type, runtimes: runtimes, required: true)) { _, type in type }
        let environment = ToolEnvironments.layered(
            defaults: defaults, tool: environments?.of(tool) ?? [:],
            platform: WebserviceLaunch.platformEnvironment(tool: tool, home: home, user: record.unixUser))
        return WebserviceShellResponse(type: type.name, home: home, user: record.unixUser, environment: environment)
    }

    /// The type asked for, else the tool's service.template's, else its declared webservice's,
    /// else the current Debian shell.
    func shellType(_ asked: String?, tool: ToolName) async throws(KilnError) -> WebserviceType {
        if let asked { return try WebserviceType(parsing: asked) }
        if let type = try readTemplate(in: try await filesOf(tool)).type { return type }
        if let name = try await control.status(tool: tool).type, let type = try? WebserviceType(parsing: name) { return type }
        return try WebserviceType(parsing: "bookworm")
    }
}

public struct WebserviceShellResponse: Codable, Sendable, ResponseEncodable {
    public var type: String
    public var home: String
    /// The tool's Unix user; nil when the platform runs tools as itself (single-user mode).
    public var user: UnixIdentity?
    public var environment: [String: String]
}

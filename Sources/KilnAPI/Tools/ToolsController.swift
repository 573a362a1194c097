import Hummingbird
import KilnCore
import KilnFormats
import KilnStore

/// `/v1/tools`: tool accounts.
struct ToolsController {
    let service: ToolService
    let store: KilnStore
    let routes: any RouteRegistry
    let webservices: (any WebserviceControl)?
    let jobs: (any JobControl)?

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/v1/whoami", use: whoami)
        router.get("/v1/tools", use: list)
        router.post("/v1/tools", use: create)
        router.get("/v1/tools/{tool}", use: show)
        router.delete("/v1/tools/{tool}", use: delete)
    }

    @Sendable func whoami(_ request: Request, context: KilnRequestContext) async throws -> WhoAmIResponse {
        switch try context.caller() {
        case .admin: WhoAmIResponse(role: "admin", tool: nil)
        case .tool(let name): WhoAmIResponse(role: "tool", tool: name.rawValue)
        }
    }

    @Sendable func list(_ request: Request, context: KilnRequestContext) async throws -> ToolListResponse {
        let caller = try context.caller()
        let tools = try await store.tools().filter { tool in
            if case .tool(let own) = caller { return tool.name == own }
            return true
        }
        return ToolListResponse(tools: tools.map { ToolResponse($0, home: service.home(of: $0.name)) })
    }

    @Sendable func create(_ request: Request, context: KilnRequestContext) async throws -> EditedResponse<CreateToolResponse> {
        try context.caller().authorizeAdmin(for: "creating a tool")
        let body = try await request.decode(as: CreateToolRequest.self, context: context)
        let name = try ToolName(body.name)
        let created = try await service.create(name: name, maintainers: body.maintainers ?? [])
        let webservice = created.imported ? await startDeclaredWebservice(of: name) : nil
        return EditedResponse(
            status: .created,
            response: CreateToolResponse(
                tool: ToolResponse(created.tool, home: service.home(of: name)),
                token: created.token, tokenFile: created.tokenFile, webservice: webservice))
    }

    /// A tool moved in with its home may carry the `service.manifest` Toolforge wrote (`web:
    /// TYPE`, `version: 4` …): its webservice is started, as Toolforge's monitor would keep it.
    /// The account stands whatever happens here; what happened is said in the response.
    func startDeclaredWebservice(of tool: ToolName) async -> String? {
        guard let webservices else { return nil }
        do throws(KilnError) {
            guard let manifest = try ServiceTemplate.read("service.manifest", in: try await service.files(of: tool)),
                manifest.type != nil
            else { return nil }
            let spec = try manifest.merged(with: ServiceTemplate())
            let status = try await webservices.start(tool: tool, spec: spec)
            return "started the \(spec.type.name) webservice its service.manifest declares (\(status.state.rawValue))"
        } catch {
            return "its service.manifest declares a webservice that was not started: \(error.message)"
        }
    }

    @Sendable func show(_ request: Request, context: KilnRequestContext) async throws -> ToolResponse {
        let name = try Self.toolName(context)
        try context.caller().authorize(actingOn: name)
        guard let tool = try await store.tool(named: name) else { throw Self.missing(name) }
        return ToolResponse(tool, home: service.home(of: name))
    }

    @Sendable func delete(_ request: Request, context: KilnRequestContext) async throws -> DeleteToolResponse {
        try context.caller().authorizeAdmin(for: "deleting a tool")
        let name = try Self.toolName(context)
        _ = try await service.beginDeletion(of: name)
        // The tool's servers go before its account does: nothing keeps running as a deleted user.
        if let webservices, try await webservices.status(tool: name).state != .stopped {
            _ = try await webservices.stop(tool: name)
        }
        if let jobs, try await service.store.tool(named: name) != nil { _ = try await jobs.flush(tool: name) }
        let (tool, archive) = try await service.delete(name: name)
        // Routes kept outside the store (Redis) go with the tool too.
        for route in try await routes.routes(of: name.rawValue) {
            _ = try await routes.remove(tool: route.tool, pattern: route.pattern, backend: nil)
        }
        return DeleteToolResponse(deleted: tool.name.rawValue, archivedHome: archive)
    }

    static func toolName(_ context: KilnRequestContext) throws -> ToolName {
        let raw = try context.parameters.require("tool")
        do {
            return try ToolName(raw)
        } catch {
            // An invalid name can never exist: report it as such, not as a bad request.
            throw KilnError(.notFound, "tool '\(raw)' does not exist (\(error.message))", context: ["tool": raw])
        }
    }

    static func missing(_ name: ToolName) -> KilnError {
        KilnError(.notFound, "tool '\(name)' does not exist", context: ["tool": name.rawValue])
    }
}

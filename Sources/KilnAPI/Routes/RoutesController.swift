import Hummingbird
import KilnCore
import KilnStore

/// `/v1/tools/{tool}/routes` and `/list`: registering a tool's backends with the proxies. It
/// replaces the seed's unauthenticated port 8282: a caller registers only its own tool's routes.
struct RoutesController {
    let registry: any RouteRegistry
    let backendAdmission: RouteBackendAdmission

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/list", use: listAll)
        router.get("/v1/routes", use: listAll)
        router.get("/v1/tools/{tool}/routes", use: list)
        router.post("/v1/tools/{tool}/routes", use: add)
        router.delete("/v1/tools/{tool}/routes", use: remove)
    }

    @Sendable func listAll(_ request: Request, context: KilnRequestContext) async throws -> AllRoutesResponse {
        try context.caller().authorizeAdmin(for: "listing every tool's routes")
        var tools: [String: [RouteResponse]] = [:]
        for route in try await registry.allRoutes() { tools[route.tool, default: []].append(RouteResponse(route)) }
        return AllRoutesResponse(tools: tools)
    }

    @Sendable func list(_ request: Request, context: KilnRequestContext) async throws -> RouteListResponse {
        let tool = try ToolsController.toolName(context)
        try context.caller().authorize(actingOn: tool)
        return RouteListResponse(routes: try await registry.routes(of: tool.rawValue).map(RouteResponse.init))
    }

    @Sendable func add(_ request: Request, context: KilnRequestContext) async throws -> EditedResponse<RouteResponse> {
        let tool = try ToolsController.toolName(context)
        let caller = try context.caller()
        try caller.authorize(actingOn: tool)
        let body = try await request.decode(as: RouteRequest.self, context: context)
        let route = try body.route(for: tool)
        try await backendAdmission.check(route.backend, of: tool, caller: caller)
        if body.replace == true {
            try await registry.replace(route)
        } else {
            try await registry.add(route)
        }
        return EditedResponse(status: .created, response: RouteResponse(route))
    }

    @Sendable func remove(_ request: Request, context: KilnRequestContext) async throws -> RemoveRouteResponse {
        let tool = try ToolsController.toolName(context)
        try context.caller().authorize(actingOn: tool)
        guard let pattern = request.uri.queryParameters.get("pattern") else {
            throw KilnError(.badRequest, "give the route to remove as ?pattern=PATTERN[&backend=HOST:PORT]")
        }
        let backend = try request.uri.queryParameters.get("backend").map { raw throws(KilnError) in
            try HostPort(parsing: raw)
        }
        guard try await registry.remove(tool: tool.rawValue, pattern: pattern, backend: backend) else {
            throw KilnError(
                .notFound, "tool '\(tool)' has no route '\(pattern)'", context: ["tool": tool.rawValue, "pattern": pattern])
        }
        return RemoveRouteResponse(removed: pattern)
    }
}

struct RouteRequest: Decodable, Sendable {
    var pattern: String?
    var backend: String
    /// Make `backend` the pattern's only one, rather than adding it to the pattern's backends.
    var replace: Bool?

    func route(for tool: ToolName) throws(KilnError) -> Route {
        let pattern = pattern ?? Route.matchAll
        _ = try RoutePattern(pattern)
        return Route(tool: tool.rawValue, pattern: pattern, backend: try HostPort(parsing: backend))
    }
}

public struct RouteResponse: Codable, Sendable, ResponseEncodable {
    public var tool: String
    public var pattern: String
    public var backend: String

    init(_ route: Route) {
        tool = route.tool
        pattern = route.pattern
        backend = route.backend.description
    }
}

public struct RouteListResponse: Codable, Sendable, ResponseEncodable {
    public var routes: [RouteResponse]
}

public struct AllRoutesResponse: Codable, Sendable, ResponseEncodable {
    public var tools: [String: [RouteResponse]]
}

public struct RemoveRouteResponse: Codable, Sendable, ResponseEncodable {
    public var removed: String
}

import Foundation
import Hummingbird
import KilnCore

/// `/v1/tools/{tool}/envvars`: a tool's secrets (`toolforge envvars`), its own only. Answers
/// carry values, as Toolforge's API does; the CLI hides them unless asked.
struct EnvvarsController {
    let service: EnvvarService

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/v1/tools/{tool}/envvars", use: list)
        router.post("/v1/tools/{tool}/envvars", use: create)
        router.get("/v1/tools/{tool}/envvars/{name}", use: show)
        router.delete("/v1/tools/{tool}/envvars/{name}", use: delete)
        router.get("/v1/tools/{tool}/envvar-quota", use: quota)
    }

    @Sendable func list(_ request: Request, context: KilnRequestContext) async throws -> EnvvarListResponse {
        EnvvarListResponse(envvars: try await service.list(try context.authorizedTool()))
    }

    @Sendable func create(_ request: Request, context: KilnRequestContext) async throws -> EnvvarResponse {
        let tool = try context.authorizedTool()
        let body = try await request.decode(as: CreateEnvvarRequest.self, context: context)
        return EnvvarResponse(envvar: try await service.set(try EnvvarName(body.name), to: body.value, of: tool))
    }

    @Sendable func show(_ request: Request, context: KilnRequestContext) async throws -> EnvvarResponse {
        let tool = try context.authorizedTool()
        return EnvvarResponse(envvar: try await service.show(try Self.name(context), of: tool))
    }

    @Sendable func delete(_ request: Request, context: KilnRequestContext) async throws -> EnvvarResponse {
        let tool = try context.authorizedTool()
        return EnvvarResponse(envvar: try await service.delete(try Self.name(context), of: tool))
    }

    @Sendable func quota(_ request: Request, context: KilnRequestContext) async throws -> EnvvarQuotaResponse {
        EnvvarQuotaResponse(quota: try await service.quota(try context.authorizedTool()))
    }

    static func name(_ context: KilnRequestContext) throws(KilnError) -> EnvvarName {
        guard let raw = context.parameters.get("name") else { throw KilnError(.badRequest, "no envvar name in the path") }
        return try EnvvarName(raw)
    }
}

public struct CreateEnvvarRequest: Codable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public struct EnvvarResponse: Codable, Sendable, ResponseEncodable {
    public var envvar: EnvvarService.Envvar
}

public struct EnvvarListResponse: Codable, Sendable, ResponseEncodable {
    public var envvars: [EnvvarService.Envvar]
}

public struct EnvvarQuotaResponse: Codable, Sendable, ResponseEncodable {
    public var quota: EnvvarService.Quota
}

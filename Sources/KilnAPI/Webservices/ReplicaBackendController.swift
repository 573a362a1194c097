import Hummingbird
import KilnCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `PUT|DELETE /v1/tools/{tool}/webservice/replicas/{replica}/backend`: a grid replica's runner
/// (`kiln run-webservice`) says where its server answers, or that it stopped. Its credential is
/// the one the platform issued for that replica's current life, which is no principal: it opens
/// this route and nothing else, and the monitor checks it (with the address against the grid's
/// word), so the authentication middleware lets these calls through to it.
struct ReplicaBackendController {
    let control: any WebserviceControl

    static let credentialPrefix = "kiln_replica_"

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.put("/v1/tools/{tool}/webservice/replicas/{replica}/backend", use: put)
        router.delete("/v1/tools/{tool}/webservice/replicas/{replica}/backend", use: delete)
    }

    /// A runner's call: this route, with a replica's credential (any other credential goes
    /// through the middleware, and is refused here).
    static func isRunnerCall(_ request: Request) -> Bool {
        guard request.method == .put || request.method == .delete, let credential = credential(of: request) else { return false }
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        // "", v1, tools, TOOL, webservice, replicas, N, backend
        return credential.hasPrefix(credentialPrefix) && parts.count == 8 && parts[1] == "v1" && parts[2] == "tools"
            && parts[4] == "webservice" && parts[5] == "replicas" && parts[7] == "backend"
    }

    static func credential(of request: Request) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
    }

    struct BackendBody: Decodable {
        var host: String
        var port: Int
    }

    @Sendable func put(_ request: Request, context: KilnRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: BackendBody.self, context: context)
        var address = in_addr()
        guard body.host.utf8.count <= 15, inet_pton(AF_INET, body.host, &address) == 1 else {
            throw KilnError(.invalidAddress, "a replica's host is the IPv4 address its server listens at", context: ["field": "host"])
        }
        guard (1...65535).contains(body.port) else {
            throw KilnError(.invalidAddress, "port \(body.port) is not from 1 to 65535", context: ["field": "port"])
        }
        try await control.replicaBackend(try registration(request, context, backend: HostPort(host: body.host, port: body.port)))
        return .noContent
    }

    @Sendable func delete(_ request: Request, context: KilnRequestContext) async throws -> HTTPResponse.Status {
        try await control.replicaBackend(try registration(request, context, backend: nil))
        return .noContent
    }

    private func registration(_ request: Request, _ context: KilnRequestContext, backend: HostPort?) throws -> ReplicaRegistration {
        guard Self.isRunnerCall(request), let credential = Self.credential(of: request) else {
            throw KilnError(.forbidden, "only a replica's runner registers its backend, with the credential the platform gave it")
        }
        let tool = try ToolsController.toolName(context)
        let raw = try context.parameters.require("replica")
        guard let replica = Int(raw), (0..<WebserviceSpec.maximumReplicas).contains(replica) else {
            throw KilnError(.notFound, "no replica '\(raw)'", context: ["replica": raw])
        }
        return ReplicaRegistration(
            tool: tool, replica: replica, credential: credential, backend: backend, peer: context.channel.remoteAddress?.ipAddress)
    }
}

import Hummingbird
import KilnCore

/// Authenticates every request; nothing in the API is reachable anonymously but the public
/// directory of tools (what the front page shows everyone), whose caller stays unknown.
struct AuthenticationMiddleware: RouterMiddleware {
    let authenticator: Authenticator

    func handle(
        _ request: Request, context: KilnRequestContext,
        next: (Request, KilnRequestContext) async throws -> Response
    ) async throws -> Response {
        if DirectoryController.isPublic(request) { return try await next(request, context) }
        // A grid replica's runner: its credential is checked by the monitor, for that route alone.
        if ReplicaBackendController.isRunnerCall(request) { return try await next(request, context) }
        var context = context
        if let header = request.headers[.authorization] {
            guard header.lowercased().hasPrefix("bearer ") else {
                throw KilnError(.unauthenticated, "the Authorization header must be 'Bearer TOKEN'")
            }
            let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
            context.principal = try await authenticator.principal(bearer: token)
        } else if let uid = try await Authenticator.peerUID(of: context.channel) {
            context.principal = try await authenticator.principal(unixUID: uid)
        } else {
            throw KilnError(.unauthenticated, "authentication required: send 'Authorization: Bearer TOKEN'")
        }
        return try await next(request, context)
    }
}

import Hummingbird
import KilnCore

/// `GET /v1/directory`: every tool's name, maintainers and webservice state, for the proxies'
/// front page. The one route anyone may read without a token (`AuthenticationMiddleware` lets it
/// through): it says what the front page shows everyone, and nothing more.
struct DirectoryController {
    static let path = "/v1/directory"

    let service: ToolDirectoryService

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get(RouterPath(Self.path), use: directory)
    }

    @Sendable func directory(_ request: Request, context: KilnRequestContext) async throws -> ToolDirectory {
        try await service.directory()
    }

    /// Whether a request is for the public directory: read-only, so GET (or HEAD) only.
    static func isPublic(_ request: Request) -> Bool {
        (request.method == .get || request.method == .head) && request.uri.path == path
    }
}

extension ToolDirectory: ResponseEncodable {}

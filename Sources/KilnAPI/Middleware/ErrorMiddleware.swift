import Foundation
import Hummingbird
import KilnCore
import Logging

/// Turns every error into the API's one error shape, `{"error": {"code", "message"}}`, with the
/// status that its code calls for.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as KilnError {
            return Self.response(for: error)
        } catch let error as any HTTPResponseError {
            let code: KilnError.Code =
                switch error.status {
                case .notFound: .notFound
                case .methodNotAllowed: KilnError.Code("method_not_allowed")
                case .contentTooLarge: KilnError.Code("too_large")
                case .unauthorized: .unauthenticated
                default: error.status.code < 500 ? .badRequest : .internalError
                }
            let message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            return Self.response(status: error.status, body: ErrorBody(code: code.rawValue, message: message))
        } catch let error as DecodingError {
            return Self.response(for: KilnError(decoding: error))
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)"])
            return Self.response(for: KilnError(.internalError, "internal error: \(error)"))
        }
    }

    static func response(for error: KilnError) -> Response {
        response(
            status: HTTPResponse.Status(code: error.httpStatus),
            body: ErrorBody(code: error.code.rawValue, message: error.message, context: error.context))
    }

    static func response(status: HTTPResponse.Status, body: ErrorBody) -> Response {
        let data = (try? KilnJSON.encoder.encode(["error": body])) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct ErrorBody: Codable, Sendable {
    var code: String
    var message: String
    var context: [String: String]?

    init(code: String, message: String, context: [String: String]? = nil) {
        self.code = code
        self.message = message
        self.context = (context?.isEmpty ?? true) ? nil : context
    }
}

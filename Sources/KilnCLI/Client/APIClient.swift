import AsyncHTTPClient
import Foundation
import KilnAPI
import KilnCore
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The CLI's side of the control-plane API, over the Unix socket (the caller's Unix user is its
/// credential) or over TCP with a bearer token.
struct APIClient: Sendable {
    enum Endpoint: Sendable {
        case unixSocket(path: String)
        case url(String)
    }

    let endpoint: Endpoint
    let token: String?

    func get<Response: Decodable>(_ path: String, as type: Response.Type = Response.self) async throws -> Response {
        try await send(.GET, path, body: Optional<Empty>.none)
    }

    func delete<Response: Decodable>(_ path: String, as type: Response.Type = Response.self) async throws -> Response {
        try await send(.DELETE, path, body: Optional<Empty>.none)
    }

    func put<Body: Encodable, Response: Decodable>(
        _ path: String, _ body: Body, as type: Response.Type = Response.self
    ) async throws -> Response {
        try await send(.PUT, path, body: body)
    }

    func post<Body: Encodable, Response: Decodable>(
        _ path: String, _ body: Body, as type: Response.Type = Response.self
    ) async throws -> Response {
        try await send(.POST, path, body: body)
    }

    struct Empty: Codable {}

    func send<Body: Encodable, Response: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?
    ) async throws -> Response {
        var request = HTTPClientRequest(url: url(for: path))
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try KilnJSON.encoder.encode(body)))
        }
        // AsyncHTTPClient retries refused connections until the request's deadline; a quick
        // connect first tells "no server" at once.
        try ServerProbe.check(endpoint, describe: describe())
        let response: HTTPClientResponse
        let data: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            data = try await response.body.collect(upTo: 64 * 1024 * 1024)
        } catch {
            throw CLIError.unreachable("cannot reach the Kiln server at \(describe()): \(Self.reason(error))")
        }
        guard (200..<300).contains(response.status.code) else {
            if let envelope = try? KilnJSON.decoder.decode(ErrorEnvelope.self, from: data) {
                throw CLIError.server(status: Int(response.status.code), code: envelope.error.code, message: envelope.error.message)
            }
            throw CLIError.server(
                status: Int(response.status.code), code: "http_\(response.status.code)",
                message: "the server answered \(response.status)")
        }
        // 204 No Content: nothing to decode for a caller that expects nothing.
        if data.readableBytes == 0, let nothing = Empty() as? Response { return nothing }
        do {
            return try KilnJSON.decoder.decode(Response.self, from: data)
        } catch {
            throw CLIError.unreachable("the server at \(describe()) sent an answer this CLI does not understand: \(error)")
        }
    }

    func url(for path: String) -> String {
        switch endpoint {
        case .unixSocket(let socket):
            let host = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
            return "http+unix://\(host)\(path)"
        case .url(let base):
            return (base.hasSuffix("/") ? String(base.dropLast()) : base) + path
        }
    }

    func describe() -> String {
        switch endpoint {
        case .unixSocket(let path): path
        case .url(let url): url
        }
    }

    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") || text.contains("Connection refused") || text.contains("connect(descriptor")
            || text.contains("No such file")
        {
            return "is `kiln serve` running? (\(text))"
        }
        return text
    }

    struct ErrorEnvelope: Decodable {
        struct Detail: Decodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}

import Foundation
import Hummingbird
import KilnCore
import NIOCore
import ServiceLifecycle

/// `GET /v1/routes/feed[?since=EPOCH:VERSION]`: the route feed, one JSON `RouteFeedMessage` a
/// line, for the platform's proxies (the admin only: it names every tool's backends). It runs
/// until the proxy goes or the control plane shuts down, with a heartbeat when idle.
struct RouteFeedController {
    let hub: RouteFeedHub
    let heartbeat: Duration

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/v1/routes/feed", use: follow)
    }

    @Sendable func follow(_ request: Request, context: KilnRequestContext) async throws -> Response {
        try context.caller().authorizeAdmin(for: "following every tool's routes")
        var since: RouteFeedPosition?
        if let text = request.uri.queryParameters["since"] {
            guard let position = RouteFeedPosition(parsing: text) else {
                throw KilnError(.badRequest, "since must be EPOCH:VERSION, not '\(text)'", context: ["field": "since"])
            }
            since = position
        }
        let (messages, input) = AsyncStream<RouteFeedMessage>.makeStream()
        let changes = hub.follow(since: since)
        let pump = Task {
            for await message in changes { input.yield(message) }
            input.finish()
        }
        let heartbeat = self.heartbeat
        let beat = Task {
            while (try? await Task.sleep(for: heartbeat)) != nil { input.yield(.heartbeat) }
        }
        input.onTermination = { _ in
            pump.cancel()
            beat.cancel()
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                // A shutdown of the control plane ends the feed (the proxy keeps its table and
                // reconnects), rather than holding the shutdown for ever.
                await withGracefulShutdownHandler {
                    for await message in messages {
                        guard let line = try? encoder.encode(message) else { continue }
                        var buffer = ByteBuffer(bytes: line)
                        buffer.writeInteger(UInt8(ascii: "\n"))
                        do { try await writer.write(buffer) } catch { break }
                    }
                } onGracefulShutdown: {
                    input.finish()
                }
                input.finish()
                try await writer.finish(nil)
            })
    }
}

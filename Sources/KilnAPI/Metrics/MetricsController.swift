import Hummingbird
import KilnCore
import NIOCore

/// `GET /metrics`: the control plane's metrics in Prometheus' text format, for the admin only
/// (they name tools).
struct MetricsController {
    let metrics: ControlPlaneMetrics

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: KilnRequestContext) async throws -> Response {
        try context.caller().authorizeAdmin(for: "reading the platform's metrics")
        let text = try await metrics.exposition()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }
}

import AsyncHTTPClient
import Foundation
import KilnCore
import KilnProxy
import KilnServer
import KilnTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The whole platform booted in this process, as Hummingbird's own tests boot an application: the
/// API, the route feed and the proxy answer, and cancelling the task stops it all.
@Suite struct PlatformTests {
    @Test func thePlatformBootsInProcessAndStopsWithItsTask() async throws {
        let base = try makeTemporaryDirectory(prefix: "kpl")
        #expect(chmod(base, 0o711) == 0)
        let data = base + "/d"
        let api = HostPort(host: "127.0.0.1", port: freeLoopbackPort())
        let http = HostPort(host: "127.0.0.1", port: freeLoopbackPort())
        let configuration = PlatformConfiguration(
            dataDirectory: data, api: api,
            proxy: ProxyConfiguration(http: http, https: nil, domain: "localhost", allowHTTP: true, accessLogPath: nil, tls: nil),
            proxyPlacement: .inProcess)
        var logger = Logger(label: "platform-test")
        logger.logLevel = .warning
        let platform = Task { try await Platform(configuration: configuration, logger: logger).run() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { platform.cancel() }
        func request(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (status: UInt, body: String) {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "User-Agent", value: "kiln-test")
            if url.hasPrefix("http://\(api)") {
                let token = (try? String(contentsOfFile: data + "/admin.token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
            }
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await client.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (response.status.code, String(buffer: bytes))
        }
        // Up once the API answers.
        var whoami: (status: UInt, body: String)?
        for _ in 0..<200 where whoami?.status != 200 {
            whoami = try? await request(.GET, "http://\(api)/v1/whoami")
            if whoami?.status != 200 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(whoami?.status == 200, "\(String(describing: whoami))")

        let tool = uniqueToolName("ip")
        #expect(try await request(.POST, "http://\(api)/v1/tools", body: #"{"name": "\#(tool)"}"#).status == 201)
        // The proxy in this process answers for the tool (no webservice yet).
        let answer = try await request(.GET, "http://\(http)/\(tool)/")
        #expect(answer.status == 503 && answer.body.contains(tool), "\(answer)")
        #expect(try await request(.DELETE, "http://\(api)/v1/tools/\(tool)").status < 300)

        try await client.shutdown()
        platform.cancel()
        _ = try? await platform.value
        #expect(FileManager.default.fileExists(atPath: data + "/kiln.sqlite"))
    }
}

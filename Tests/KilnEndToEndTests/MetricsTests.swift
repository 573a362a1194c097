import Foundation
import KilnTesting
import Testing

/// Both `/metrics` endpoints through the real binary: the proxy process's own, and the control
/// plane's, which only the admin may read.
@Suite(.serialized) struct MetricsTests {
    /// `name{labels} value` lines of an exposition, by series.
    func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// The proxy's metrics are served by whichever process runs the proxy.
    @Test(arguments: ["process", "in-process"])
    func requestsAreCountedByToolAndStatusClassAndTheAPIsMetricsAreTheAdmins(proxyProcess: String) throws {
        let metricsPort = freeLoopbackPort()
        let fixture = try ProxyFixture(
            serverArguments: ["--allow-http", "--proxy-process", proxyProcess, "--proxy-metrics", "127.0.0.1:\(metricsPort)"])
        defer { fixture.stop() }
        let tool = fixture.tool
        for _ in 0..<3 { #expect(try curl([fixture.server.httpURL + "/\(tool)/page"]).status == 200) }
        #expect(try curl([fixture.server.httpURL + "/nosuchtool/"]).status == 503)
        #expect(try curl(["-H", "User-Agent:", fixture.server.httpURL + "/\(tool)/page"]).status == 403)

        // Scrapes bring the metrics token of the data directory; none, or the admin's, is refused.
        let proxyMetricsURL = "http://127.0.0.1:\(metricsPort)/metrics"
        let metricsToken = try String(contentsOfFile: fixture.server.dataDirectory + "/metrics.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try curl([proxyMetricsURL]).status == 401)
        #expect(try curl(["-H", "Authorization: Bearer \(fixture.server.adminToken)", proxyMetricsURL]).status == 401)
        let scrape = try curl(["-i", "-H", "Authorization: Bearer \(metricsToken)", proxyMetricsURL])
        #expect(scrape.status == 200, "\(scrape)")
        #expect(scrape.headers.lowercased().contains("content-type: text/plain; version=0.0.4"), "\(scrape.headers)")
        let proxy = samples(scrape.body)
        #expect(proxy[#"kiln_proxy_requests_total{tool="\#(tool)",status_class="2xx"}"#] == 3, "\(scrape.body)")
        #expect(proxy[#"kiln_proxy_request_duration_seconds_count{tool="\#(tool)"}"#] == 3)
        // A name no tool routes is no tool's: labels do not grow with what clients make up.
        #expect(proxy[#"kiln_proxy_requests_total{tool="-",status_class="5xx"}"#] == 1)
        #expect(!scrape.body.contains("nosuchtool"))
        #expect(proxy[#"kiln_proxy_requests_total{tool="-",status_class="4xx"}"#] == 1)
        #expect((proxy["kiln_proxy_route_table_version"] ?? 0) >= 1)
        #expect(proxy["kiln_proxy_route_table_age_seconds"] != nil)
        #expect(proxy["kiln_proxy_open_connections"] != nil)
        #expect(try curl(["http://127.0.0.1:\(metricsPort)/other"]).status == 404)
        // Once the tool has no routes, its series go.
        #expect(try kiln("routes", "remove", "--data", fixture.server.dataDirectory, "--tool", tool, ".*").status == 0)
        #expect(try curl([fixture.server.httpURL + "/\(tool)/page"]).status == 503)
        let later = try curl(["-H", "Authorization: Bearer \(metricsToken)", proxyMetricsURL])
        #expect(!later.body.contains(#"tool="\#(tool)""#), "\(later.body)")

        // The control plane's: the admin reads them; a tool is refused, and so is no one.
        let metricsURL = fixture.server.apiURL + "/metrics"
        let asAdmin = try curl(["-H", "Authorization: Bearer \(fixture.server.adminToken)", metricsURL])
        #expect(asAdmin.status == 200, "\(asAdmin)")
        let api = samples(asAdmin.body)
        #expect(api[#"kiln_webservice_replicas{state="serving"}"#] == 0, "\(asAdmin.body)")
        #expect(api[#"kiln_webservice_replicas{state="failed"}"#] == 0)
        #expect((api["kiln_route_feed_version"] ?? 0) >= 1)
        let toolToken = try String(contentsOfFile: fixture.server.dataDirectory + "/tools/\(tool)/.kiln-token", encoding: .utf8)
        let asTool = try curl(["-H", "Authorization: Bearer \(toolToken.trimmingCharacters(in: .whitespacesAndNewlines))", metricsURL])
        #expect(asTool.status == 403, "\(asTool)")
        #expect(try curl([metricsURL]).status == 401)
    }
}

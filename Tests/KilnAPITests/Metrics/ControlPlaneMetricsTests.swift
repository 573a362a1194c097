import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import KilnAPI
import KilnAccounts
import KilnCore
import KilnStore
import Prometheus
import Testing

/// The control plane's `GET /metrics`: what it counts and reads at the scrape, and who may read it.
@Suite struct ControlPlaneMetricsTests {
    /// `name{labels} value` lines of an exposition, by series.
    func samples(_ body: ByteBuffer) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in String(buffer: body).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test func replicasAreCountedByStateAtTheScrapeBesideTheMonitorsCounters() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try KilnStore(path: directory + "/kiln.sqlite")
        let accounts = try HostAccounts(dataDirectory: directory, userMode: .auto)
        let tools = ToolService(store: store, accounts: accounts)
        let adminToken = AccessToken.generate()
        let tool = try ToolName("web")
        try await store.createTool(Tool(name: tool, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: "x")
        let spec = try WebserviceSpec(type: .python311, replicas: 3)
        try await store.declareWebservice(WebserviceRecord(tool: tool, spec: spec, declaredAt: 0))
        for (index, phase) in [ReplicaRecord.Phase.serving, .serving, .backingOff].enumerated() {
            try await store.saveReplica(ReplicaRecord(tool: tool, index: index, port: 4000 + index, phase: phase))
        }
        let feed = RouteFeedHub()
        feed.setNotice("down", for: "web")
        let metrics = ControlPlaneMetrics(store: store, routeFeed: feed)
        Counter(label: "kiln_job_runs_total", dimensions: [("outcome", "failed")], factory: metrics.factory).increment(by: 2)
        let router = ControlPlaneRouter.build(
            authenticator: Authenticator(adminToken: adminToken, store: store), tools: tools, store: store,
            routes: StoreRouteRegistry(store: store), metrics: metrics)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(adminToken)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let samples = samples(response.body)
                #expect(samples[#"kiln_webservice_replicas{state="serving"}"#] == 2)
                #expect(samples[#"kiln_webservice_replicas{state="backing-off"}"#] == 1)
                #expect(samples[#"kiln_webservice_replicas{state="failed"}"#] == 0)
                #expect(samples[#"kiln_job_runs_total{outcome="failed"}"#] == 2)
                #expect(samples["kiln_route_feed_version"] == 1)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}

import KilnCore
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import KilnProxy

@Suite struct ProxyMetricsTests {
    /// Sends `requests` (one connection each) through a fast path on `upstreams`.
    func send(_ requests: [String], shared: ProxyShared, upstreams: LoopUpstreams, channel: EmbeddedChannel) throws {
        for request in requests {
            let connection = EmbeddedChannel(loop: channel.embeddedEventLoop)
            try connection.pipeline.syncOperations.addHandler(FastPathHandler(shared: shared, upstreams: upstreams, scheme: "http"))
            try connection.writeInbound(ByteBuffer(string: request))
            while try connection.readOutbound(as: ByteBuffer.self) != nil {}
            _ = try? connection.finish()
        }
    }

    @Test func requestsAreCountedByToolAndStatusClass() throws {
        let shared = toolOriginShared(pathRouting: .redirect)
        let channel = EmbeddedChannel()
        let upstreams = LoopUpstreams(eventLoop: channel.eventLoop, routes: shared.routes, connectTimeout: .seconds(1))
        try send(
            [
                "GET /tool/a HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n",  // 301 to the tool's origin
                "GET /tool/b HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n",  // 301
                "GET /other/x HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n",  // 503: a tool without routes, as no tool's
                "GET / HTTP/1.1\r\nHost: example.org\r\nUser-Agent: kiln-test\r\n\r\n",  // 404: no tool
            ], shared: shared, upstreams: upstreams, channel: channel)
        let snapshot = upstreams.metrics.snapshot
        #expect(snapshot.requests["tool"]?.count(.redirection) == 2)
        #expect(snapshot.requests["tool"]?.count == 2)
        #expect(snapshot.requests[ProxyMetricsSnapshot.unroutedTool]?.count(.serverError) == 1)
        #expect(snapshot.requests[ProxyMetricsSnapshot.unroutedTool]?.count(.clientError) == 1)
        #expect(snapshot.requests["other"] == nil)
        #expect(snapshot.requests.count == 2)

        let samples = try PrometheusSamples(snapshot.prometheusText)
        #expect(samples[#"kiln_proxy_requests_total{tool="tool",status_class="3xx"}"#] == 2)
        #expect(samples[#"kiln_proxy_requests_total{tool="-",status_class="5xx"}"#] == 1)
        #expect(samples[#"kiln_proxy_requests_total{tool="-",status_class="4xx"}"#] == 1)
        #expect(samples[#"kiln_proxy_requests_total{tool="tool",status_class="2xx"}"#] == nil)
        #expect(samples[#"kiln_proxy_request_duration_seconds_count{tool="tool"}"#] == 2)
        #expect(samples[#"kiln_proxy_request_duration_seconds_bucket{tool="tool",le="+Inf"}"#] == 2)
        #expect(samples.types["kiln_proxy_request_duration_seconds"] == "histogram")
        #expect(samples.types["kiln_proxy_requests_total"] == "counter")
    }

    @Test func durationsFallInTheirBucketsCumulatively() throws {
        let metrics = LoopMetrics()
        var meter = RequestMeter()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        for milliseconds: Int64 in [1, 3, 3, 700, 120_000] {
            meter.begin(at: start)
            meter.routed(to: "tool", in: metrics)
            meter.end(status: 200, in: metrics, at: start + .milliseconds(milliseconds))
        }
        let samples = try PrometheusSamples(metrics.snapshot.prometheusText)
        func bucket(_ le: String) -> Double? { samples[#"kiln_proxy_request_duration_seconds_bucket{tool="tool",le="\#(le)"}"#] }
        #expect(bucket("0.001") == 1)
        #expect(bucket("0.0025") == 1)
        #expect(bucket("0.005") == 3)
        #expect(bucket("0.5") == 3)
        #expect(bucket("1.0") == 4)
        #expect(bucket("60.0") == 4)
        #expect(bucket("+Inf") == 5)
        #expect(samples[#"kiln_proxy_request_duration_seconds_sum{tool="tool"}"#] == 120.707)
        #expect(samples[#"kiln_proxy_requests_total{tool="tool",status_class="2xx"}"#] == 5)
    }

    @Test func aMeterKeepsItsToolUntilTheToolChanges() {
        let metrics = LoopMetrics()
        var meter = RequestMeter()
        for (tool, status) in [("a", UInt(200)), ("a", 404), ("b", 200), ("a", 502)] {
            meter.begin()
            meter.routed(to: tool, in: metrics)
            meter.end(status: status, in: metrics)
        }
        // Not routed: counted as no tool's, even after routed exchanges.
        meter.begin()
        meter.end(status: 0, in: metrics)
        let snapshot = metrics.snapshot
        #expect(snapshot.requests["a"]?.byStatusClass == [0, 1, 0, 1, 1, 0])
        #expect(snapshot.requests["b"]?.count(.success) == 1)
        #expect(snapshot.requests[ProxyMetricsSnapshot.unroutedTool]?.count(.none) == 1)
    }

    @Test func upstreamFailuresAndRefusalsAreCountedApart() throws {
        let metrics = LoopMetrics()
        metrics.upstreamConnectFailed(ChannelError.connectTimeout(.seconds(1)))
        metrics.upstreamConnectFailed(IOError(errnoCode: 111, reason: "connect"))
        metrics.upstreamConnectFailed(IOError(errnoCode: 111, reason: "connect"))
        metrics.upstreamTimedOut()
        metrics.refused(.rateLimited)
        metrics.refused(.rateLimited)
        metrics.refused(.connectionLimit)
        let samples = try PrometheusSamples(metrics.snapshot.prometheusText)
        #expect(samples["kiln_proxy_upstream_connect_timeouts_total"] == 1)
        #expect(samples["kiln_proxy_upstream_connect_failures_total"] == 2)
        #expect(samples["kiln_proxy_upstream_response_timeouts_total"] == 1)
        #expect(samples[#"kiln_proxy_refused_total{reason="rate_limited"}"#] == 2)
        #expect(samples[#"kiln_proxy_refused_total{reason="connection_limit"}"#] == 1)
    }

    @Test func aScrapeAddsUpEveryLoopAndReadsTheGauges() async throws {
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        let perLoop = loops.map { _ in LoopMetrics() }
        let routes = RouteTableReference()
        routes.apply(.replaced(tool: "tool", routes: [Route(tool: "tool", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 9))]))
        let changed = routes.lastChanged
        let metrics = ProxyMetrics()
        metrics.attach(loops: Array(zip(loops, perLoop)), connections: ConnectionRegistry(), routes: routes)
        for (loop, counters) in zip(loops, perLoop) {
            try await loop.submit {
                var meter = RequestMeter()
                meter.begin()
                meter.routed(to: "tool", in: counters)
                meter.end(status: 204, in: counters)
                counters.upstreamTimedOut()
            }.get()
        }
        let snapshot = try await metrics.collect(now: changed + .seconds(90))
        #expect(snapshot.requests["tool"]?.count(.success) == loops.count)
        #expect(snapshot.upstreamResponseTimeouts == loops.count)
        #expect(snapshot.routeTableVersion == 1)
        #expect(snapshot.routeTableAge == .seconds(90))
        #expect(snapshot.openConnections == 0)
        let samples = try PrometheusSamples(snapshot.prometheusText)
        #expect(samples["kiln_proxy_route_table_age_seconds"] == 90)
        #expect(samples["kiln_proxy_route_table_version"] == 1)
        #expect(samples["kiln_proxy_open_connections"] == 0)
    }

    @Test func labelValuesAreEscaped() {
        var text = PrometheusText()
        text.sample("m", [("l", "a\"b\\c\nd")], 1)
        #expect(text.output == "m{l=\"a\\\"b\\\\c\\nd\"} 1\n")
    }
}

import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The proxy as a process of its own that `kiln serve` supervises, under load from wrk: a crash
/// of the control plane drops no request and the restarted server adopts the proxy; a crash of the
/// proxy is repaired at once; SIGHUP replaces the proxy without dropping a request.
@Suite(.serialized) struct ProxyProcessTests {
    /// wrk running beside the test, and what it counted.
    final class Load {
        let process = Process()
        let output = Pipe()

        init(url: String, seconds: Int) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
            process.arguments = ["-t1", "-c4", "-d\(seconds)s", "-H", "User-Agent: kiln-test", url]
            process.standardOutput = output
            process.standardError = output
            try process.run()
        }

        /// Waits for wrk's end: (requests, failures: socket errors and responses not 2xx/3xx, report).
        func finish() -> (requests: Int, failures: Int, report: String) {
            let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            func numbers(after label: String) -> [Int] {
                guard let line = report.split(separator: "\n").first(where: { $0.contains(label) }) else { return [] }
                return line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            }
            let requests = numbers(after: "requests in").first ?? 0
            let failures = numbers(after: "Socket errors").reduce(0, +) + (numbers(after: "Non-2xx").first ?? 0)
            return (requests, failures, report)
        }
    }

    func waitUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return false
    }

    @Test func aCrashOfTheControlPlaneDropsNoRequestAndTheProxyIsAdopted() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let url = fixture.server.httpURL + "/\(fixture.tool)/page"
        let proxy = try #require(fixture.server.proxyPID)
        let load = try Load(url: url, seconds: 4)
        usleep(1_000_000)
        fixture.server.kill9()
        #expect(try curl([url]).status == 200, "served while the control plane is down")
        try fixture.server.start()
        let (requests, failures, report) = load.finish()
        #expect(requests > 100 && failures == 0, "\(report)")
        #expect(fixture.server.proxyPID == proxy, "the restarted server adopted the proxy")
        // The adopted proxy follows the new control plane's routes.
        #expect(try kiln("routes", "remove", "--data", fixture.server.dataDirectory, "--tool", fixture.tool, ".*").status == 0)
        #expect(try waitUntil(10) { try curl([url]).status == 503 })
    }

    @Test func aCrashedProxyIsReplacedAtOnce() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let url = fixture.server.httpURL + "/\(fixture.tool)/page"
        let proxy = try #require(fixture.server.proxyPID)
        let killed = Date()
        fixture.server.killProxy()
        let replaced = try waitUntil(10) { try fixture.server.proxyPID.map { $0 != proxy } == true && curl([url]).status == 200 }
        #expect(replaced)
        // About a tenth of a second here; the chaos figures come from bench/chaos.sh.
        print("proxy back after \(String(format: "%.2f", Date().timeIntervalSince(killed))) s")
    }

    @Test func sighupReplacesTheProxyWithoutDroppingARequest() throws {
        let fixture = try ProxyFixture()
        defer { fixture.stop() }
        let url = fixture.server.httpURL + "/\(fixture.tool)/page"
        let proxy = try #require(fixture.server.proxyPID)
        let load = try Load(url: url, seconds: 4)
        usleep(1_000_000)
        kill(fixture.server.pid, SIGHUP)
        #expect(waitUntil(10) { fixture.server.proxyPID.map { $0 != proxy } == true })
        let (requests, failures, report) = load.finish()
        #expect(requests > 100 && failures == 0, "\(report)")
        #expect(kill(proxy, 0) != 0, "the old proxy drained and went")
    }
}

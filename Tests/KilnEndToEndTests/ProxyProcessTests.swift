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

    /// A server with a routed tool, its proxy's pid, and wrk at it for 4 s (1 s under way).
    func underLoad() throws -> (fixture: ProxyFixture, url: String, proxy: Int32, load: Load) {
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--rate-limit", "0"])
        do {
            let url = fixture.server.httpURL + "/\(fixture.tool)/page"
            let proxy = try #require(fixture.server.proxyPID)
            let load = try Load(url: url, seconds: 4)
            usleep(1_000_000)
            return (fixture, url, proxy, load)
        } catch {
            fixture.stop()
            throw error
        }
    }

    @Test func aCrashOfTheControlPlaneDropsNoRequestAndTheProxyIsAdopted() throws {
        let (fixture, url, proxy, load) = try underLoad()
        defer { fixture.stop() }
        fixture.server.kill9()
        #expect(try curl([url]).status == 200, "served while the control plane is down")
        try fixture.server.start()
        let (requests, failures, report) = load.finish()
        #expect(requests > 100 && failures == 0, "\(report)")
        #expect(fixture.server.proxyPID == proxy, "the restarted server adopted the proxy")
        // It took over the adopted proxy's listening sockets: a connection made while that proxy's
        // replacement starts waits for it.
        fixture.server.killProxy()
        #expect(try curl([url], timeout: .seconds(10)).status == 200)
        #expect(try waitUntil(10) { fixture.server.proxyPID.map { $0 != proxy } == true })
        // The adopted proxy follows the new control plane's routes.
        #expect(try kiln("routes", "remove", "--data", fixture.server.dataDirectory, "--tool", fixture.tool, ".*").status == 0)
        #expect(try waitUntil(10) { try curl([url]).status == 503 })
    }

    /// The listening sockets are the supervisor's: a killed proxy loses only what it had accepted
    /// (wrk's 4 connections, at most one request in flight on each); connections made before its
    /// replacement listens wait in the backlog instead of being refused.
    @Test func aKilledProxyLosesOnlyItsOwnConnections() throws {
        let (fixture, url, proxy, load) = try underLoad()
        defer { fixture.stop() }
        let killed = Date()
        fixture.server.killProxy()
        // Made while no proxy accepts (the replacement takes tens of milliseconds to start).
        let waiting = try curl([url], timeout: .seconds(10))
        #expect(waiting.status == 200, "\(waiting)")
        // About a tenth of a second here; the chaos figures come from bench/chaos.sh.
        print("proxy back after \(String(format: "%.2f", Date().timeIntervalSince(killed))) s")
        let (requests, failures, report) = load.finish()
        #expect(requests > 100 && failures <= 4, "\(report)")
        #expect(fixture.server.proxyPID.map { $0 != proxy } == true)
    }

    @Test func sighupReplacesTheProxyWithoutDroppingARequest() throws {
        let (fixture, url, proxy, load) = try underLoad()
        defer { fixture.stop() }
        kill(fixture.server.pid, SIGHUP)
        #expect(waitUntil(10) { fixture.server.proxyPID.map { $0 != proxy } == true })
        let (requests, failures, report) = load.finish()
        #expect(requests > 100 && failures == 0, "\(report)")
        #expect(kill(proxy, 0) != 0, "the old proxy drained and went")
    }

    @Test func kilnProxyReloadReplacesTheProxyOfADataDirectory() throws {
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--rate-limit", "0"])
        defer { fixture.stop() }
        let proxy = try #require(fixture.server.proxyPID)
        let reloaded = try kiln("proxy", "reload", "--data", fixture.server.dataDirectory)
        #expect(reloaded.status == 0, "\(reloaded)")
        #expect(waitUntil(10) { fixture.server.proxyPID.map { $0 != proxy } == true })
        #expect(try curl([fixture.server.httpURL + "/\(fixture.tool)/page"]).status == 200)

        let elsewhere = try makeTemporaryDirectory(prefix: "kr")
        let refused = try kiln("proxy", "reload", "--data", elsewhere)
        #expect(refused.status == 1 && refused.standardError.contains("no kiln serve has run"), "\(refused)")
    }

    /// A proxy on another machine follows the control plane's feed over its TCP API with the
    /// admin token, and routes as the platform's own proxy does.
    @Test func aProxyAloneFollowsAControlPlaneOverItsAPI() throws {
        let fixture = try ProxyFixture(serverArguments: ["--allow-http", "--rate-limit", "0"])
        defer { fixture.stop() }
        let directory = try makeTemporaryDirectory(prefix: "kp")
        let tokenFile = directory + "/token"
        #expect(FileManager.default.createFile(atPath: tokenFile, contents: Data(fixture.server.adminToken.utf8), attributes: [.posixPermissions: 0o600]))
        let port = freeLoopbackPort()
        let proxy = try proxyAlone(following: fixture.server.apiURL, tokenFile: tokenFile, port: port, data: directory + "/data")
        defer {
            proxy.terminate()
            proxy.waitUntilExit()
        }
        let url = "http://127.0.0.1:\(port)/\(fixture.tool)/page"
        #expect(try waitUntil(10) { (try? curl([url]))?.status == 200 })
        #expect(try kiln("routes", "remove", "--data", fixture.server.dataDirectory, "--tool", fixture.tool, ".*").status == 0)
        #expect(try waitUntil(10) { try curl([url]).status == 503 })

        // Without the token: refused at every attempt, nothing routed.
        let wrong = directory + "/wrong"
        #expect(FileManager.default.createFile(atPath: wrong, contents: Data("not-the-token".utf8), attributes: [.posixPermissions: 0o600]))
        let refusedPort = freeLoopbackPort()
        let refused = try proxyAlone(following: fixture.server.apiURL, tokenFile: wrong, port: refusedPort, data: directory + "/data2")
        defer {
            refused.terminate()
            refused.waitUntilExit()
        }
        #expect(try kiln("routes", "add", "--data", fixture.server.dataDirectory, "--tool", fixture.tool, ".*", fixture.backend.address).status == 0)
        #expect(try waitUntil(10) { try curl([url]).status == 200 }, "the route is back where the token is right")
        // With no routes it listens only after waiting for them (10 s), then answers with a page.
        #expect(waitUntil(15) { (try? curl(["http://127.0.0.1:\(refusedPort)/\(fixture.tool)/page"]))?.status == 503 }, "a wrong token gets no routes")
    }

    /// `kiln proxy` alone, following the control plane at `api` with the token in `tokenFile`.
    func proxyAlone(following api: String, tokenFile: String, port: Int, data: String) throws -> Process {
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: KilnBinary.path)
        proxy.arguments = [
            "proxy", "--control-plane", api, "--token-file", tokenFile, "--http", "127.0.0.1:\(port)", "--https", "off", "--allow-http",
            "--data", data,
        ]
        proxy.standardOutput = FileHandle.nullDevice
        proxy.standardError = FileHandle.nullDevice
        try proxy.run()
        return proxy
    }
}

import Foundation
import KilnTesting
import Testing

/// `kiln serve --demo`: what a newcomer sees first.
@Suite(.serialized) struct DemoTests {
    @Test func theDemoToolIsServedThroughTheProxyAndComesBackWhenItDies() throws {
        let server = try KilnServerProcess(extraArguments: ["--demo"])
        defer { server.terminate() }
        let byPath = try waitForStatus(200, server.httpURL + "/hello/")
        #expect(byPath.body.contains("Hello from Kiln"))
        let byHost = try curl(["-H", "Host: hello.localhost:\(server.httpPort)", server.httpURL + "/"])
        #expect(byHost.status == 200)
        #expect(byHost.body.contains("Hello from Kiln"))

        // The demo webservice is a real process of the tool; killed, it is started again.
        let routes = try kiln("routes", "list", "--data", server.dataDirectory, "--tool", "hello")
        let backend = try #require(routes.standardOutput.split(separator: "\n").last?.split(separator: " ").last)
        let port = try #require(backend.split(separator: ":").last)
        let pids = try runCommand("/usr/bin/pgrep", ["-f", "http.server \(port)"]).standardOutput
            .split(separator: "\n").compactMap { Int32($0) }
        let pid = try #require(pids.first)
        if geteuid() == 0 {
            let owner = try runCommand("/bin/ps", ["-o", "user=", "-p", String(pid)]).standardOutput
            #expect(owner.trimmingCharacters(in: .whitespacesAndNewlines) == "tools.hello")
        }
        kill(pid, SIGKILL)
        let again = try waitForStatus(200, server.httpURL + "/hello/", timeout: 15)
        #expect(again.body.contains("Hello from Kiln"))

        // Stopping the server stops the tool's process too.
        let current = try runCommand("/usr/bin/pgrep", ["-f", "http.server.*public_html"]).standardOutput
        #expect(server.terminate() == 0)
        for line in current.split(separator: "\n") {
            guard let child = Int32(line) else { continue }
            #expect(kill(child, 0) != 0, "process \(child) survived the server's stop")
        }
        if geteuid() == 0 {
            // The data directory was temporary; so is the demo's Unix user.
            _ = try? runCommand("/usr/sbin/userdel", ["tools.hello"])
            _ = try? runCommand("/usr/sbin/groupdel", ["tools.hello"])
        }
    }
}

/// Polls `url` until it answers `status` (or the time is up), returning the last answer.
func waitForStatus(_ status: Int, _ url: String, timeout: TimeInterval = 20) throws -> CurlResponse {
    let deadline = Date().addingTimeInterval(timeout)
    var last = try curl([url])
    while last.status != status && Date() < deadline {
        usleep(100_000)
        last = try curl([url])
    }
    return last
}

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
        // The demo's own address lists it (the page is kept a moment: it may say "starting" first).
        var front = try curl([server.httpURL + "/"])
        for _ in 0..<50 where !front.body.contains(#"<span class="state up">running</span>"#) {
            usleep(200_000)
            front = try curl([server.httpURL + "/"])
        }
        #expect(front.status == 200)
        #expect(front.body.contains(#"<th scope="row" role="rowheader">hello</th>"#), "\(front.body)")
        #expect(front.body.contains(#"<a href="/hello/">/hello/</a>"#))
        #expect(front.body.contains(#"<span class="state up">running</span>"#))

        // The demo webservice is a real process of the tool; killed, it is started again.
        func servingPID() throws -> Int32? {
            let status = try kiln("webservice", "status", "--json", "--data", server.dataDirectory, "--tool", "hello")
            let json = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
            let replica = (json?["replicas"] as? [[String: Any]])?.first
            return replica?["phase"] as? String == "serving" ? (replica?["pid"] as? Int).map(Int32.init) : nil
        }
        let pid = try #require(try servingPID())
        if geteuid() == 0 {
            let owner = try runCommand("/bin/ps", ["-o", "user=", "-p", String(pid)]).standardOutput
            #expect(owner.trimmingCharacters(in: .whitespacesAndNewlines) == "tools.hello")
        }
        kill(pid, SIGKILL)
        let again = try waitForStatus(200, server.httpURL + "/hello/", timeout: 15)
        #expect(again.body.contains("Hello from Kiln"))

        // Stopping the server stops the tool's process too.
        let current = try #require(try servingPID())
        #expect(current != pid)
        #expect(server.terminate() == 0)
        #expect(kill(current, 0) != 0, "process \(current) survived the server's stop")
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

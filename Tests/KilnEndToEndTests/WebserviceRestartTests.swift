import Foundation
import KilnTesting
import Testing

/// `kiln webservice restart` is rolling: under continuous requests through the proxy, no request
/// fails while the replicas are replaced by new processes; new replicas that cannot start leave
/// the old ones serving, and the restart says why.
@Suite(.serialized) struct WebserviceRestartTests {
    typealias Fixture = WebserviceTests.Fixture

    func pids(_ fixture: Fixture) throws -> [Int] { try fixture.replicas().compactMap { $0["pid"] as? Int } }

    /// Starts the Flask app with two replicas and returns their pids once both serve. (Two
    /// replicas of a new tool create its logs at the same moment, and one may lose that race
    /// once and be started again: the start then reports `degraded`, the replica serves soon.)
    func startTwoReplicas(_ fixture: Fixture) throws -> [Int] {
        let started = try fixture.webservice("python3.11", "start", "--replicas", "2")
        let deadline = Date().addingTimeInterval(20)
        var replicas = try fixture.replicas()
        while Date() < deadline, replicas.count != 2 || replicas.contains(where: { $0["phase"] as? String != "serving" }) {
            usleep(100_000)
            replicas = try fixture.replicas()
        }
        guard replicas.count == 2, replicas.allSatisfy({ $0["phase"] as? String == "serving" }) else {
            throw TestFailure("start: \(started)\n\(replicas)\n\(fixture.server.log.suffix(2000))")
        }
        return try pids(fixture)
    }

    @Test func aRestartUnderLoadFailsNoRequestAndReplacesEveryProcess() async throws {
        let fixture = try await onOwnThread { try Fixture(serverArguments: ["--allow-http", "--rate-limit", "0", "--max-connections-per-address", "0"]) }
        defer { fixture.stop() }
        try fixture.write("www/python/src/app.py", WebserviceTests.flaskApp)
        let before = try await onOwnThread { try self.startTwoReplicas(fixture) }
        try #require(before.count == 2)

        let load = HTTPLoad(url: fixture.server.httpURL + "/" + fixture.tool + "/", concurrency: 4)
        try await Task.sleep(for: .milliseconds(500))
        let restarted = try await onOwnThread { try fixture.webservice("restart") }
        try await Task.sleep(for: .milliseconds(500))
        let report = await load.finish()
        print("requests through the proxy while the webservice restarted: \(report)")
        #expect(restarted.status == 0, "\(restarted)\n\(fixture.server.log.suffix(3000))")
        #expect(restarted.standardOutput.contains("2 replica(s) serving"), "\(restarted)")
        #expect(report.requests > 20, "\(report)")
        #expect(report.failed == 0, "\(report)")

        let (after, state, old) = try await onOwnThread { () throws -> ([Int], String?, [Bool]) in
            (try self.pids(fixture), try fixture.status()["state"] as? String, before.map { isGone(Int32($0)) })
        }
        #expect(state == "running")
        #expect(after.count == 2 && Set(after).isDisjoint(with: before), "before \(before), after \(after)")
        #expect(old == [true, true], "the old servers are stopped once replaced")
        // Each new server runs in its own replica's control group, not an old one's.
        let units = after.compactMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8))?
                .split(separator: "\n").first { $0.contains("/\(fixture.tool)/web-") }
                .map { String($0.split(separator: "/").last ?? "") }
        }
        print("the new servers' control groups: \(units)")
        if !units.isEmpty { #expect(Set(units) == ["web-2", "web-3"], "\(units)") }
        // Requests reach the new servers.
        let page = try await onOwnThread { try fixture.get("/") }
        #expect(page.status == 200)
    }

    @Test func aRestartWhoseNewReplicasCannotStartLeavesTheOldServing() async throws {
        let fixture = try await onOwnThread { try Fixture(serverArguments: ["--allow-http", "--rate-limit", "0", "--max-connections-per-address", "0"]) }
        defer { fixture.stop() }
        try fixture.write("www/python/src/app.py", WebserviceTests.flaskApp)
        let before = try await onOwnThread { try self.startTwoReplicas(fixture) }
        try #require(before.count == 2)
        let load = HTTPLoad(url: fixture.server.httpURL + "/" + fixture.tool + "/", concurrency: 2)

        // The app is gone: the new replicas could not run, and the restart is refused at once.
        try FileManager.default.removeItem(atPath: fixture.home + "/www/python/src/app.py")
        let missing = try await onOwnThread { try fixture.webservice("restart") }
        #expect(missing.status == 1 && missing.standardError.contains("app.py"), "\(missing)")
        #expect(try await onOwnThread { try self.pids(fixture) } == before)

        // The app is there but cannot be imported: the new servers die, and the old stay.
        try fixture.write("www/python/src/app.py", "raise RuntimeError('the new version is broken')\n")
        let broken = try await onOwnThread { try fixture.webservice("restart") }
        #expect(broken.status == 1, "\(broken)")
        #expect(broken.standardError.contains("was not restarted") && broken.standardError.contains("still run"), "\(broken)")
        #expect(broken.standardOutput.contains("Restart failed"), "\(broken)")
        #expect(broken.standardOutput.contains("Last lines of logs/web.err"), "the new servers' error log: \(broken)")
        let (state, failure, after) = try await onOwnThread { () throws -> (String?, String?, [Int]) in
            let status = try fixture.status()
            return (status["state"] as? String, status["restart_failure"] as? String, try self.pids(fixture))
        }
        #expect(state == "running")
        #expect(failure?.contains("did not come up") == true, "\(failure ?? "no restart_failure")")
        #expect(after == before, "the old servers still run")
        try await Task.sleep(for: .milliseconds(300))
        let report = await load.finish()
        print("requests while two restarts failed: \(report)")
        #expect(report.requests > 10 && report.failed == 0, "\(report)")

        // Fixed, it restarts, and the failure is no longer said.
        try fixture.write("www/python/src/app.py", WebserviceTests.flaskApp)
        let fixed = try await onOwnThread { try fixture.webservice("restart") }
        #expect(fixed.status == 0, "\(fixed)")
        let (failure2, after2) = try await onOwnThread { () throws -> (String?, [Int]) in
            (try fixture.status()["restart_failure"] as? String, try self.pids(fixture))
        }
        #expect(failure2 == nil, "\(failure2 ?? "")")
        #expect(Set(after2).isDisjoint(with: before))
    }
}

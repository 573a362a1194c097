import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Webservices on a grid (`kiln serve --backend gridengine|slurm`), as the seed's webgrid: each
/// replica a grid job running `kiln run-webservice` as the tool on the host the grid picked
/// (the two execution hosts are network namespaces, 10.200.0.11 and .12, the control plane at
/// 10.200.0.1), registering its HOST:PORT with a credential of that replica's own; the proxy
/// serves the tool from both hosts. Needs root and the grids up with two hosts (scripts/test).
@Suite(.serialized) struct GridWebserviceTests {
    typealias Fixture = WebserviceTests.Fixture

    static let hostApp = """
        import os, socket
        from flask import Flask, request

        app = Flask(__name__)


        @app.route("/")
        def index():
            # The address the request reached: the execution host's own (Slurm's hosts here
            # share one host name; SGE's each have theirs).
            address = request.environ["gunicorn.socket"].getsockname()[0]
            return {"host": socket.gethostname(), "address": address, "pid": os.getpid()}
        """

    static func twoHosts() -> Bool { FileManager.default.fileExists(atPath: "/run/netns/kn1") && FileManager.default.fileExists(atPath: "/run/netns/kn2") }

    func servesFromTwoHosts(backend: String) async throws {
        let fixture = try await onOwnThread {
            try Fixture("gw", serverArguments: ["--allow-http", "--backend", backend], gridAPIHost: "10.200.0.1")
        }
        defer { fixture.stop() }
        try fixture.write("app.py", Self.hostApp)
        let started = try await onOwnThread { try fixture.webservice("python3.11", "start", "--replicas", "2") }
        #expect(started.status == 0 && started.standardOutput.contains("2 replica(s) serving"), "\(started)")

        // Each replica is routed at its execution host's address, and they are two hosts.
        let backends = try await onOwnThread { try fixture.replicas().compactMap { $0["backend"] as? String } }
        let hosts = Set(backends.map { String($0.split(separator: ":")[0]) })
        print("grid figure: \(backend) webservice replicas at \(backends.sorted())")
        #expect(backends.count == 2 && !hosts.contains { $0.hasPrefix("127.") }, "\(backends)")
        #expect(hosts.count == 2, "the grid put both replicas on one host: \(backends)")
        // Status names each replica's grid job, as the grid lists it.
        let shown = try await onOwnThread { try fixture.webservice("status") }
        let jobIDs = try await onOwnThread { try fixture.replicas().compactMap { $0["grid_job"] as? String } }
        #expect(shown.standardOutput.contains("GRID JOB") && jobIDs.count == 2 && jobIDs.allSatisfy(shown.standardOutput.contains), "\(shown)")

        // The proxy serves the tool from both hosts.
        var answeredBy = Set<String>()
        for _ in 0..<40 where answeredBy.count < 2 {
            let response = try await onOwnThread { try fixture.get("/") }
            #expect(response.status == 200, "\(response)")
            if let json = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any], let host = json["address"] as? String {
                answeredBy.insert(host)
            }
        }
        print("grid figure: \(backend) webservice answered from \(answeredBy.sorted())")
        #expect(answeredBy == hosts, "answered only by \(answeredBy)")

        try await refusesWhatIsNotTheReplicas(fixture, backends: backends)

        // A kill -9 of the platform: the replicas' grid jobs live on, are adopted (not doubled),
        // and keep their routes.
        let jobsBefore = await Self.gridJobs(of: fixture.tool, backend: backend)
        try await onOwnThread { try fixture.server.restart() }
        let adopted = try await JobsToolforgeTests.eventually("both replicas serving after the restart") { () async throws -> [String]? in
            let serving = try await onOwnThread {
                try fixture.replicas().filter { $0["phase"] as? String == "serving" }.compactMap { $0["backend"] as? String }
            }
            return serving.count == 2 ? serving : nil
        }
        #expect(Set(adopted) == Set(backends), "\(adopted) after, \(backends) before")
        let jobsAfter = await Self.gridJobs(of: fixture.tool, backend: backend)
        #expect(jobsBefore.count == 2 && Set(jobsAfter) == Set(jobsBefore), "\(jobsAfter) after, \(jobsBefore) before")
        let served = try await onOwnThread { try fixture.get("/") }
        #expect(served.status == 200, "\(served)")

        // A stop takes both out of the proxy and ends both grid jobs; each runner says so.
        let stopped = try await onOwnThread { try fixture.webservice("stop") }
        #expect(stopped.status == 0, "\(stopped)")
        let after = try await onOwnThread { try fixture.get("/") }
        #expect(after.status == 503 || after.status == 404, "\(after)")
        _ = try await JobsToolforgeTests.eventually("both runners ended", timeout: .seconds(30)) { () async throws -> Bool? in
            let log = (try? String(contentsOfFile: fixture.home + "/logs/web.err", encoding: .utf8)) ?? ""
            return log.contains("kiln: replica 0 ended") && log.contains("kiln: replica 1 ended") ? true : nil
        }
        // The grid lists an ended job for a moment (SGE's "dr"); then it is gone.
        _ = try await JobsToolforgeTests.eventually("the grid lists no job of the tool's", timeout: .seconds(30)) { () async throws -> Bool? in
            await Self.gridJobs(of: fixture.tool, backend: backend).isEmpty ? true : nil
        }
    }

    /// What a replica's credential cannot do, even in the tool's hands (it can read its runner's
    /// environment): register a backend anywhere but where the grid runs that replica, or on
    /// this machine's loopback, and no other credential opens the route at all.
    func refusesWhatIsNotTheReplicas(_ fixture: Fixture, backends: [String]) async throws {
        let runner = try await onOwnThread { try runCommand("/usr/bin/pgrep", ["-f", "run-webservice --tool \(fixture.tool) --replica 0"]) }
        guard let pid = runner.standardOutput.split(separator: "\n").first.map(String.init),
            let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
        else {
            Issue.record("no runner of replica 0 found: \(runner)")
            return
        }
        let credential = environ.split(separator: 0).compactMap { String(bytes: $0, encoding: .utf8) }
            .first { $0.hasPrefix("KILN_REPLICA_CREDENTIAL=") }.map { String($0.dropFirst("KILN_REPLICA_CREDENTIAL=".count)) }
        #expect(credential?.hasPrefix("kiln_replica_") == true)
        let server = fixture.server
        func put(_ token: String, replica: Int = 0, host: String, port: Int) async throws -> CurlResponse {
            try await onOwnThread {
                try curl([
                    "-X", "PUT", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                    "--data", "{\"host\":\"\(host)\",\"port\":\(port)}",
                    server.apiURL + "/v1/tools/\(fixture.tool)/webservice/replicas/\(replica)/backend",
                ])
            }
        }
        guard let credential else { return }
        // The platform's own API, on its host's loopback.
        let api = try await put(credential, host: "127.0.0.1", port: server.apiPort)
        #expect(api.status == 403, "\(api)")
        // Another host's address (the other replica's), from here: not where the grid runs replica 0.
        let other = backends[1].split(separator: ":")
        let elsewhere = try await put(credential, host: String(other[0]), port: Int(other[1]) ?? 0)
        #expect(elsewhere.status == 403 && elsewhere.body.contains("registers only its own host's address"), "\(elsewhere)")
        // Replica 0's credential for replica 1, a made-up credential, the tool's own token.
        let wrongReplica = try await put(credential, replica: 1, host: String(other[0]), port: Int(other[1]) ?? 0)
        #expect(wrongReplica.status == 403, "\(wrongReplica)")
        let madeUp = try await put("kiln_replica_" + String(repeating: "0", count: 64), host: "10.200.0.11", port: 8000)
        #expect(madeUp.status == 403, "\(madeUp)")
        let toolToken = (try? String(contentsOfFile: fixture.home + "/.kiln-token", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let asTool = try await put(toolToken, host: "10.200.0.11", port: 8000)
        #expect(asTool.status == 403, "\(asTool)")
        // The routes are as they were: both replicas still answer.
        let still = try await onOwnThread { try fixture.replicas().compactMap { $0["backend"] as? String } }
        #expect(Set(still) == Set(backends), "\(still)")
    }

    /// Requests through the proxy every 200 ms until cancelled: how many were served, and the
    /// statuses of those that were not.
    static func keepAsking(_ fixture: Fixture) -> Task<(served: Int, failed: [Int]), Never> {
        Task {
            var served = 0
            var failed: [Int] = []
            while !Task.isCancelled {
                let status = (try? await onOwnThread { try fixture.get("/") })?.status ?? 0
                if status == 200 { served += 1 } else { failed.append(status) }
                try? await Task.sleep(for: .milliseconds(200))
            }
            return (served, failed)
        }
    }

    /// The tool's grid jobs as the grid lists them now (names `TOOL.…`).
    static func gridJobs(of tool: String, backend: String) async -> [String] {
        let environment = ["SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
        let listing: CommandResult? =
            switch backend {
            case "gridengine": try? await onOwnThread { try runCommand("/usr/bin/env", ["qstat", "-u", "*", "-r"], environment: environment) }
            default: try? await onOwnThread { try runCommand("/usr/bin/env", ["squeue", "-h", "-o", "%j"], environment: environment) }
            }
        return (listing?.standardOutput ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.contains("\(tool).webservice.") }
    }

    @Test(.enabled("needs root, Son of Grid Engine and two hosts (scripts/grid-up all --two-hosts)") {
        await GridServeTests.answers("qstat", ["-u", "*"]) && twoHosts()
    })
    func aWebserviceOnSonOfGridEngineIsServedFromTwoHosts() async throws { try await servesFromTwoHosts(backend: "gridengine") }

    @Test(.enabled("needs root, Slurm and two hosts (scripts/grid-up all --two-hosts)") {
        await GridServeTests.answers("scontrol", ["ping"]) && twoHosts()
    })
    func aWebserviceOnSlurmIsServedFromTwoHosts() async throws { try await servesFromTwoHosts(backend: "slurm") }
}

/// The runners' heartbeat (`WebserviceRunner.heartbeatInterval`), as the tests wait for it.
enum WebserviceRunnerBeats {
    static let interval: Duration = .seconds(10)
}

/// A webservice replica whose execution host's daemon dies comes back on another host: the
/// grid gives its job up, the platform deregisters it and submits the next life, which the
/// grid places elsewhere; the proxy serves the tool all along (the old server still answers
/// until then, the other replica throughout), and the old life's runner, refused at its next
/// heartbeat, stops its server. The time it takes is a figure.
extension GridWebserviceTests {
    /// A tool on a platform whose webservices run on `grid`, with two replicas of `hostApp` started.
    func twoReplicas(on grid: GridFailoverTests.Grid, prefix: String) async throws -> Fixture {
        let fixture = try await onOwnThread {
            try Fixture(prefix, serverArguments: ["--allow-http", "--backend", grid.backend], gridAPIHost: "10.200.0.1")
        }
        try fixture.write("app.py", Self.hostApp)
        let started = try await onOwnThread { try fixture.webservice("python3.11", "start", "--replicas", "2") }
        #expect(started.status == 0, "\(started)")
        return fixture
    }

    func replicaComesBackOnAnotherHost(_ grid: GridFailoverTests.Grid) async throws {
        let fixture = try await twoReplicas(on: grid, prefix: "gf")
        defer { fixture.stop() }
        let before = try await onOwnThread { try fixture.replicas().map { ($0["index"] as? Int ?? -1, $0["backend"] as? String ?? "") } }
        let namespaced = ["10.200.0.11": grid.hosts[0], "10.200.0.12": grid.hosts[1]]
        guard let (index, backend) = before.first(where: { namespaced[String($0.1.split(separator: ":")[0])] != nil }) else {
            Issue.record("no replica on a host in a namespace: \(before)")
            return
        }
        let oldHost = String(backend.split(separator: ":")[0])
        let daemon = namespaced[oldHost] ?? ""
        let oldRunner = try await onOwnThread {
            try runCommand("/usr/bin/pgrep", ["-f", "run-webservice --tool \(fixture.tool) --replica \(index)"])
        }.standardOutput.split(separator: "\n").compactMap { Int32($0) }.first

        let load = Self.keepAsking(fixture)
        let (moved, took) = try await GridFailoverTests.whileStopped(daemon) { () async throws -> (String, Duration) in
            let killed = ContinuousClock.now
            let moved = try await JobsToolforgeTests.eventually("replica \(index) serving on another host", timeout: .seconds(180)) {
                () async throws -> String? in
                let now = try await onOwnThread {
                    try fixture.replicas().first { $0["index"] as? Int == index && $0["phase"] as? String == "serving" }?["backend"] as? String
                }
                return now.flatMap { $0.hasPrefix(oldHost + ":") ? nil : $0 }
            }
            return (moved, ContinuousClock.now - killed)
        }
        load.cancel()
        let requests = await load.value
        print("grid figure: \(grid) webservice replica back on another host \(GridFailoverTests.seconds(took)) after its host's daemon died (\(backend) -> \(moved)); \(requests.served) requests served meanwhile, \(requests.failed.count) failed")
        #expect(took < .seconds(150))
        #expect(requests.failed.isEmpty && requests.served > 0, "\(requests)")
        // The old life's runner, refused at its next heartbeat, stopped its server.
        if let oldRunner {
            _ = try await JobsToolforgeTests.eventually("the old runner \(oldRunner) ended", timeout: .seconds(60)) { () async throws -> Bool? in
                GridFailoverTests.alive(oldRunner) ? nil : true
            }
        }
        let after = try await onOwnThread { try fixture.replicas().compactMap { $0["backend"] as? String } }
        #expect(after.count == 2 && !after.contains { $0.hasPrefix(oldHost + ":") }, "\(after)")
    }

    /// The grid's controller stopped for longer than two heartbeats and started again: the
    /// replicas serve throughout, from the same grid jobs at the same addresses.
    func replicasLiveThroughTheirControllersRestart(_ grid: GridFailoverTests.Grid) async throws {
        let fixture = try await twoReplicas(on: grid, prefix: "gc")
        defer { fixture.stop() }
        let backends = try await onOwnThread { try fixture.replicas().compactMap { $0["backend"] as? String } }
        let jobsBefore = try await grid.jobs(named: fixture.tool + ".")
        let load = Self.keepAsking(fixture)
        try await GridFailoverTests.whileStopped(grid.controller) {
            try await Task.sleep(for: WebserviceRunnerBeats.interval * 2 + .seconds(5))
        }
        // A heartbeat after the controller is back, then the same replicas as before.
        try await Task.sleep(for: WebserviceRunnerBeats.interval + .seconds(2))
        load.cancel()
        let requests = await load.value
        let after = try await onOwnThread {
            try fixture.replicas().filter { $0["phase"] as? String == "serving" }.compactMap { $0["backend"] as? String }
        }
        let jobsAfter = try await grid.jobs(named: fixture.tool + ".")
        print("grid figure: \(grid) controller stopped and started under a webservice: \(requests.served) requests served, \(requests.failed.count) failed")
        #expect(Set(after) == Set(backends), "\(after) after, \(backends) before")
        #expect(jobsBefore.count == 2 && Set(jobsAfter) == Set(jobsBefore), "\(jobsAfter) after, \(jobsBefore) before")
        #expect(requests.failed.isEmpty && requests.served > 0, "\(requests)")
    }

    /// `webservice restart` on a grid is rolling, as on one host: new grid jobs are submitted
    /// beside the old, routed once their runners register, and only then are the old ones taken
    /// out of the proxy and cancelled. No request fails meanwhile.
    func aRestartReplacesTheGridJobsWithoutDroppingARequest(_ grid: GridFailoverTests.Grid) async throws {
        let fixture = try await twoReplicas(on: grid, prefix: "gr")
        defer { fixture.stop() }
        let jobsBefore = try await grid.jobs(named: fixture.tool + ".")
        try #require(jobsBefore.count == 2, "\(jobsBefore)")
        let load = Self.keepAsking(fixture)
        let began = ContinuousClock.now
        let restarted = try await onOwnThread { try fixture.webservice("restart") }
        let took = ContinuousClock.now - began
        try await Task.sleep(for: .seconds(1))
        load.cancel()
        let requests = await load.value
        print("grid figure: \(grid) webservice restart (rolling) took \(GridFailoverTests.seconds(took)): \(requests.served) requests served, \(requests.failed.count) failed")
        #expect(restarted.status == 0, "\(restarted)")
        #expect(requests.failed.isEmpty && requests.served > 0, "\(requests)")
        let serving = try await onOwnThread {
            try fixture.replicas().filter { $0["phase"] as? String == "serving" }.compactMap { $0["index"] as? Int }
        }
        #expect(serving.count == 2 && serving.allSatisfy { $0 >= 2 }, "not a new generation: replicas \(serving)")
        // The old jobs go (their runners stop their servers); only the new ones are left.
        let jobsAfter = try await JobsToolforgeTests.eventually("only the new grid jobs", timeout: .seconds(60)) { () async throws -> [String]? in
            let jobs = try await grid.jobs(named: fixture.tool + ".")
            return jobs.count == 2 && Set(jobs).isDisjoint(with: jobsBefore) ? jobs : nil
        }
        #expect(jobsAfter.count == 2)
    }

    @Test(.enabled("needs root, Son of Grid Engine and two hosts (scripts/grid-up all --two-hosts)") {
        await GridFailoverTests.twoHosts(.gridEngine)
    })
    func aRestartOnSonOfGridEngineIsRolling() async throws { try await aRestartReplacesTheGridJobsWithoutDroppingARequest(.gridEngine) }

    @Test(.enabled("needs root, Slurm and two hosts (scripts/grid-up all --two-hosts)") { await GridFailoverTests.twoHosts(.slurm) })
    func aRestartOnSlurmIsRolling() async throws { try await aRestartReplacesTheGridJobsWithoutDroppingARequest(.slurm) }

    @Test(.enabled("needs root, Son of Grid Engine and two hosts (scripts/grid-up all --two-hosts)") {
        await GridFailoverTests.twoHosts(.gridEngine)
    })
    func replicasOnSonOfGridEngineLiveThroughAQmasterRestart() async throws { try await replicasLiveThroughTheirControllersRestart(.gridEngine) }

    @Test(.enabled("needs root, Slurm and two hosts (scripts/grid-up all --two-hosts)") { await GridFailoverTests.twoHosts(.slurm) })
    func replicasOnSlurmLiveThroughASlurmctldRestart() async throws { try await replicasLiveThroughTheirControllersRestart(.slurm) }

    @Test(.enabled("needs root, Son of Grid Engine and two hosts (scripts/grid-up all --two-hosts)") {
        await GridFailoverTests.twoHosts(.gridEngine)
    })
    func aReplicaOnSonOfGridEngineComesBackOnAnotherHost() async throws { try await replicaComesBackOnAnotherHost(.gridEngine) }

    @Test(.enabled("needs root, Slurm and two hosts (scripts/grid-up all --two-hosts)") { await GridFailoverTests.twoHosts(.slurm) })
    func aReplicaOnSlurmComesBackOnAnotherHost() async throws { try await replicaComesBackOnAnotherHost(.slurm) }
}

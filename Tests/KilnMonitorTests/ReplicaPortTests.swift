import Foundation
import KilnCore
import KilnMonitor
import KilnRunner
import KilnStore
import KilnTesting
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A continuous job's replica whose port another user took while it was down moves to a fresh
/// port, and the job's relay follows it: the squatter never gets the job's connections.
@Suite(.serialized) struct ReplicaPortTests {
    let directory: String
    let store: KilnStore
    let tool: ToolName

    init() async throws {
        // The tool runs as a user of its own (never as root), as under `kiln serve`.
        directory = (try TestToolUser.makeHome(prefix: "kiln-ports") as NSString).deletingLastPathComponent
        store = try KilnStore(path: directory + "/kiln.sqlite")
        tool = try ToolName("ownjobs")
        try await store.createTool(Tool(name: tool, maintainers: [], unixUser: TestToolUser.identity, createdAt: 0), tokenHash: "x")
    }

    func monitor(_ backend: LocalJobBackend) -> JobMonitor {
        let home = directory + "/home"
        var logger = Logger(label: "test")
        logger.logLevel = .error
        return JobMonitor(store: store, backend: backend, clock: SystemJobClock(), mailer: nil, homeOf: { _ in home }, logger: logger)
    }

    /// The relay's answer to `path`, asked until it is `wanted` (or 10 s pass); every answer seen.
    func answers(at relay: HostPort, path: String, until wanted: Int) async throws -> [Int?] {
        var seen: [Int?] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            // The relay is the server's own listener.
            let status = await HealthProbe.status(of: relay, path: path, host: "x", owner: .uid(geteuid()), timeout: .milliseconds(500))
            seen.append(status)
            if status == wanted { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return seen
    }

    /// The pid of the replica's live process, once a life newer than `after` runs.
    func livePID(after previous: Int64? = nil) async throws -> (run: Int64, pid: Int32) {
        for _ in 0..<500 {
            let runs = try await store.runs(of: "moved", tool: tool, limit: 10)
            if let life = runs.first(where: { $0.phase == .running && $0.handle != nil && $0.id > (previous ?? 0) }),
                let pid = life.handle.flatMap({ Int32($0.id) })
            {
                return (life.id, pid)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("no new life of the replica")
    }

    @Test func aTakenPortIsLeftAndTheRelayFollows() async throws {
        let backend = LocalJobBackend(instance: directory)
        defer { backend.tidy(removingFiles: true) }
        let monitor = monitor(backend)
        let running = Task { try await monitor.run() }
        // While `slow` exists in its home, a life waits before it binds: the window in which
        // another user takes its port.
        let slow = directory + "/home/slow"
        let created = try await monitor.create(
            tool: tool,
            spec: JobSpec(
                name: "moved", command: "if [ -e slow ]; then sleep 5; fi; exec python3 -m http.server --bind 127.0.0.1 $PORT",
                image: "python3.11", continuous: true, port: 8127))
        let relay = try HostPort(parsing: try #require(created.status.address))
        // http.server answers 404 for a missing file; the squatter would answer 200.
        #expect(try await answers(at: relay, path: "/missing", until: 404).last == 404)
        let port = try #require(try await store.jobReplicas(of: "moved", tool: tool).first?.port)

        FileManager.default.createFile(atPath: slow, contents: nil)
        TestToolUser.give(slow)
        let firstLife = try await livePID()
        ProcessInspector.signalGroup(firstLife.pid, SIGKILL)
        for _ in 0..<200 where PortAllocator.isListenedOn(port) { try await Task.sleep(for: .milliseconds(5)) }
        // Another user than the tool's (`nobody`, see TestToolUser).
        let squatter = try ForeignListener(uid: 65533, port: port, body: "squatter")
        defer { squatter.stop() }
        try await squatter.waitUntilListening()
        try FileManager.default.removeItem(atPath: slow)

        // The slow life cannot bind and dies; the next one moves to a fresh port.
        let seen = try await answers(at: relay, path: "/missing", until: 404)
        #expect(seen.last == 404, "\(seen)")
        #expect(!seen.contains(200), "the squatter answered through the relay: \(seen)")
        #expect(try await store.jobReplicas(of: "moved", tool: tool).first?.port != port)
        try await monitor.delete(tool: tool, job: "moved")
        running.cancel()
        _ = try? await running.value
    }
}

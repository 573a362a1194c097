import Foundation
import KilnCore
import KilnMonitor
import KilnRunner
import KilnStore
import KilnTesting
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `WebserviceMonitor.restart` on this host, with real servers and a registrar that records what
/// the proxy was told: the new replicas are registered before any old one is deregistered, the
/// records and routes are the new generation's afterwards, and a new generation that does not
/// come up leaves the old one serving, routed and recorded.
@Suite(.serialized) struct WebserviceRolloutMonitorTests {
    /// What the proxy was told, in order.
    final class RecordingRegistrar: BackendRegistrar {
        enum Event: Hashable, Sendable {
            case register(Int)
            case deregister(Int)
        }

        let events = Mutex<[Event]>([])
        func register(_ route: Route) async throws(KilnError) { events.withLock { $0.append(.register(route.backend.port)) } }
        func deregister(_ route: Route) async throws(KilnError) { events.withLock { $0.append(.deregister(route.backend.port)) } }
        var recorded: [Event] { events.withLock { $0 } }
    }

    let home: String
    let store: KilnStore
    let tool: ToolName
    let registrar = RecordingRegistrar()

    init() async throws {
        home = try TestToolUser.makeHome(prefix: "kiln-roll")
        store = try KilnStore(path: (home as NSString).deletingLastPathComponent + "/kiln.sqlite")
        tool = try ToolName("rolling")
        try await store.createTool(Tool(name: tool, maintainers: [], unixUser: TestToolUser.identity, createdAt: 0), tokenHash: "x")
        try write("server.py", Self.server)
    }

    /// Answers every path with its pid; waits first while `slow` exists; exits 3 while `broken` does.
    static let server = """
        import http.server, os, sys, time
        if os.path.exists("broken"):
            print("cannot start: broken", file=sys.stderr, flush=True)
            sys.exit(3)
        while os.path.exists("slow"):
            time.sleep(0.1)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = str(os.getpid()).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
        """

    func write(_ name: String, _ contents: String) throws { try writeAsTool(contents, to: name, inHome: home) }

    func monitor() -> WebserviceMonitor {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        var configuration = WebserviceMonitor.Configuration()
        configuration.startTimeout = .seconds(10)
        configuration.drainPeriod = .milliseconds(100)
        return WebserviceMonitor(
            store: store, registrar: registrar, homeOf: { [home] _ in home }, kilnExecutable: "/bin/false",
            configuration: configuration, logger: logger)
    }

    func spec() throws -> WebserviceSpec {
        try WebserviceSpec(type: .generic, command: "exec python3 server.py", replicas: 2)
    }

    /// Starts the two replicas and returns the status once both serve. (Two replicas of a new
    /// tool create its logs at the same moment; one may lose that race once and start again.)
    func startServing(_ monitor: WebserviceMonitor) async throws -> WebserviceStatus {
        var status = try await monitor.start(tool: tool, spec: try spec())
        for _ in 0..<100 where status.state != .running {
            try await Task.sleep(for: .milliseconds(100))
            status = try await monitor.status(tool: tool)
        }
        return status
    }

    func answers(_ port: Int) async -> Bool {
        await HealthProbe.isHealthy(
            HostPort(host: "127.0.0.1", port: port), path: "/", host: "x", owner: .processes(of: TestToolUser.identity, serverUID: geteuid()),
            timeout: .seconds(1))
    }

    @Test func theNewReplicasAreRoutedBeforeTheOldAreTakenOut() async throws {
        let monitor = monitor()
        let started = try await startServing(monitor)
        #expect(started.state == .running, "\(started)")
        let before = started.replicas
        #expect(before.map(\.index) == [0, 1])
        let oldPorts = Set(before.compactMap { Int($0.backend.split(separator: ":").last ?? "") })
        registrar.events.withLock { $0.removeAll() }

        let restarted = try await monitor.restart(tool: tool)
        #expect(restarted.state == .running, "\(restarted)")
        #expect(restarted.restartFailure == nil)
        #expect(restarted.replicas.map(\.index) == [2, 3], "the new generation has indices of its own")
        let newPorts = Set(restarted.replicas.compactMap { Int($0.backend.split(separator: ":").last ?? "") })
        #expect(newPorts.count == 2 && newPorts.isDisjoint(with: oldPorts))
        #expect(Set(restarted.replicas.compactMap(\.pid)).isDisjoint(with: before.compactMap(\.pid)))

        // Every new backend was registered before any old one was deregistered.
        let events = registrar.recorded
        let registered = events.enumerated().filter { if case .register(let port) = $0.element { newPorts.contains(port) } else { false } }
        let deregistered = events.enumerated().filter { if case .deregister(let port) = $0.element { oldPorts.contains(port) } else { false } }
        // (A stopped replica is deregistered again when its process is seen to end.)
        #expect(registered.count == 2 && Set(deregistered.map(\.element)) == Set(oldPorts.map { .deregister($0) }), "\(events)")
        #expect((registered.map(\.offset).max() ?? .max) < (deregistered.map(\.offset).min() ?? -1), "\(events)")
        #expect(!events.contains { if case .deregister(let port) = $0 { newPorts.contains(port) } else { false } }, "\(events)")

        // The store knows the new generation only; the old servers are down.
        #expect(try await store.replicas(of: tool).map(\.index) == [2, 3])
        #expect(Set(try await store.webserviceRoutes().map(\.backend.port)) == newPorts)
        for port in oldPorts { #expect(!(await answers(port)), "an old replica still answers at \(port)") }
        for port in newPorts { #expect(await answers(port)) }

        // The next restart goes back to 0 and 1.
        #expect(try await monitor.restart(tool: tool).replicas.map(\.index) == [0, 1])
        _ = try await monitor.stop(tool: tool)
    }

    @Test func newReplicasThatDoNotComeUpLeaveTheOldServing() async throws {
        let monitor = monitor()
        let started = try await startServing(monitor)
        #expect(started.state == .running, "\(started)")
        let oldPorts = Set(started.replicas.compactMap { Int($0.backend.split(separator: ":").last ?? "") })
        registrar.events.withLock { $0.removeAll() }

        try write("broken", "")
        let failed = try await monitor.restart(tool: tool)
        #expect(failed.state == .running, "the old replicas still serve: \(failed)")
        #expect(failed.replicas.map(\.index) == [0, 1])
        #expect(failed.replicas.map(\.pid) == started.replicas.map(\.pid))
        let failure = try #require(failed.restartFailure)
        #expect(failure.contains("exited with code 3") && failure.contains("still run"), "\(failure)")
        #expect(failed.errorLogTail.contains("cannot start: broken"), "\(failed.errorLogTail)")
        #expect(!registrar.recorded.contains { if case .deregister(let port) = $0 { oldPorts.contains(port) } else { false } })
        #expect(try await store.replicas(of: tool).map(\.index) == [0, 1])
        for port in oldPorts { #expect(await answers(port)) }
        // Status says it until the next restart.
        #expect(try await monitor.status(tool: tool).restartFailure == failure)

        try FileManager.default.removeItem(atPath: home + "/broken")
        let fixed = try await monitor.restart(tool: tool)
        #expect(fixed.state == .running && fixed.restartFailure == nil, "\(fixed)")
        #expect(fixed.replicas.map(\.index) == [2, 3])
        _ = try await monitor.stop(tool: tool)
    }

    @Test func aStopDuringARestartStopsBothGenerations() async throws {
        let monitor = monitor()
        let started = try await startServing(monitor)
        #expect(started.state == .running, "\(started)")
        try write("slow", "")
        let restart = Task { try await monitor.restart(tool: tool) }
        // The new replicas run (not answering) while the old serve.
        var during = try await store.replicas(of: tool)
        for _ in 0..<100 where during.count < 4 || during.contains(where: { $0.index >= 2 && $0.pid == nil }) {
            try await Task.sleep(for: .milliseconds(50))
            during = try await store.replicas(of: tool)
        }
        #expect(during.map(\.index) == [0, 1, 2, 3])
        #expect(try await monitor.status(tool: tool).replicas.map(\.index) == [0, 1], "status shows the serving generation")
        let again = await #expect(throws: KilnError.self) { try await monitor.restart(tool: tool) }
        #expect(again?.message.contains("being restarted already") == true)

        _ = try await monitor.stop(tool: tool)
        let interrupted = await #expect(throws: KilnError.self) { try await restart.value }
        #expect(interrupted?.message.contains("interrupted") == true)
        let pids = during.compactMap(\.pid)
        #expect(pids.count == 4)
        for pid in pids { #expect(kill(pid, 0) != 0, "process \(pid) survived the stop") }
        #expect(try await store.webserviceRoutes().isEmpty)
        try FileManager.default.removeItem(atPath: home + "/slow")
    }
    @Test func aRolloutLeftUnfinishedByTheShutdownIsTidiedAtTheNextStart() async throws {
        // The platform went down with both generations recorded: 0 and 1 served, 2 and 3 were starting.
        let first = monitor()
        let running = Task { try await first.run() }
        #expect(try await startServing(first).state == .running)
        running.cancel()
        _ = try? await running.value
        for index in [2, 3] { try await store.saveReplica(ReplicaRecord(tool: tool, index: index, port: 1, phase: .starting)) }
        #expect(try await store.replicas(of: tool).map(\.index) == [0, 1, 2, 3])

        let next = monitor()
        let resumed = Task { try await next.run() }
        var records = try await store.replicas(of: tool)
        for _ in 0..<200 where records.map(\.index) != [0, 1] || records.contains(where: { $0.phase != .serving }) {
            try await Task.sleep(for: .milliseconds(50))
            records = try await store.replicas(of: tool)
        }
        #expect(records.map(\.index) == [0, 1], "the served generation is kept, the other forgotten: \(records)")
        #expect(records.allSatisfy { $0.phase == .serving }, "\(records)")
        #expect(try await next.status(tool: tool).state == .running)
        _ = try await next.stop(tool: tool)
        resumed.cancel()
        _ = try? await resumed.value
    }
    @Test func twoRestartsAskedTogetherMakeOneRollout() async throws {
        let monitor = monitor()
        #expect(try await startServing(monitor).state == .running)
        func restart() async -> Result<WebserviceStatus, KilnError> {
            do {
                return .success(try await monitor.restart(tool: tool))
            } catch {
                return .failure(error)
            }
        }
        async let first = restart()
        async let second = restart()
        let outcomes = await [first, second]
        var replaced: [WebserviceStatus] = []
        var refused: [KilnError] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let status): replaced.append(status)
            case .failure(let error): refused.append(error)
            }
        }
        #expect(replaced.count == 1 && replaced.first?.replicas.map(\.index) == [2, 3], "\(outcomes)")
        #expect(refused.count == 1 && refused.first?.message.contains("being restarted already") == true, "\(outcomes)")
        #expect(try await store.replicas(of: tool).map(\.index) == [2, 3], "no third generation left behind")
        _ = try await monitor.stop(tool: tool)
    }
}

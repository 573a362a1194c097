import Foundation
import KilnTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kiln serve --backend gridengine|slurm` on the two-host grids of `scripts/grid-up all
/// --two-hosts`, when parts of the grid fail: jobs spread over both execution hosts; a continuous
/// job whose host's daemon dies comes back on another host (and its old processes do not outlive
/// the host's return); the grid's controller stopped and started again loses no job and doubles
/// no run. Needs root and the grids up with their two hosts; skipped otherwise.
///
/// The grids are shared with other tests: tools are `fo…`, and every daemon a test stops it
/// starts again (`scripts/grid-host`, as grid-up starts it), whatever the test's outcome.
@Suite(.serialized) struct GridFailoverTests {
    typealias Fixture = JobsTests.Fixture

    /// One grid, as these tests drive it.
    struct Grid: Sendable, CustomStringConvertible {
        let backend: String
        /// The execution hosts in namespaces (kn1, kn2), as the grid names them.
        let hosts: [String]
        /// `scripts/grid-host`'s name of the grid's controller.
        let controller: String
        /// Lists the grid's unfinished jobs, one name a line.
        let listNames: (program: String, arguments: [String])
        /// Succeeds when the grid answers and knows the second host.
        let check: (program: String, arguments: [String])
        /// Succeeds when the controller hears every execution host (none unknown, none not responding).
        let allHeard: (program: String, arguments: [String])

        var description: String { backend }

        static let gridEngine = Grid(
            backend: "gridengine", hosts: ["exec1", "exec2"], controller: "qmaster",
            listNames: ("sh", ["-c", "qstat -u '*' -xml | sed -n 's:.*<JB_name>\\(.*\\)</JB_name>.*:\\1:p'"]),
            check: ("qconf", ["-se", "exec2"]), allHeard: ("sh", ["-c", "qstat -f > /dev/null && ! qstat -f -qs u | grep -q '^all.q@'"]))
        static let slurm = Grid(
            backend: "slurm", hosts: ["node1", "node2"], controller: "slurmctld",
            listNames: ("squeue", ["-h", "-o", "%j"]), check: ("scontrol", ["show", "node", "node2"]),
            allHeard: ("sh", ["-c", "sinfo -h -N -o %T > /dev/null && ! sinfo -h -N -o %T | grep -q '[*]'"]))

        /// The grid's unfinished jobs whose names start with `prefix`.
        func jobs(named prefix: String) async throws -> [String] {
            let listed = try await GridFailoverTests.grid(listNames.program, listNames.arguments)
            guard listed.status == 0 else { throw TestFailure("listing the grid's jobs: \(listed)") }
            return listed.standardOutput.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
        }
    }

    static let gridHost = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/grid-host").path

    /// A grid command as root, with SGE's environment.
    static func grid(_ program: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        let environment = ["SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
        return try await onOwnThread { try runCommand("/usr/bin/env", [program] + arguments, environment: environment, timeout: timeout) }
    }

    /// `scripts/grid-host ACTION TARGET`, which must say OK.
    static func gridHost(_ action: String, _ target: String) async throws {
        let result = try await grid("bash", [gridHost, action, target], timeout: .seconds(120))
        guard result.status == 0 else { throw TestFailure("grid-host \(action) \(target): \(result)") }
    }

    /// Runs `body` with `daemon` stopped, and starts it again whatever `body` does.
    static func whileStopped<T>(_ daemon: String, _ body: () async throws -> T) async throws -> T {
        try await gridHost("stop", daemon)
        let result: T
        do {
            result = try await body()
        } catch {
            try? await gridHost("start", daemon)
            throw error
        }
        try await gridHost("start", daemon)
        return result
    }

    /// Whether the grid answers and has its two hosts in namespaces.
    static func twoHosts(_ grid: Grid) async -> Bool {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: gridHost) else { return false }
        return (try? await Self.grid(grid.check.program, grid.check.arguments, timeout: .seconds(30)))?.status == 0
    }

    /// A grid job of a job, as `jobs show` says it: "| Grid job: | 123 on exec1 in all.q@exec1 (Running) |".
    struct Placement: Sendable, Hashable {
        let id: String
        let host: String?
        let running: Bool
    }

    static func placements(_ fixture: Fixture, _ job: String) async throws -> [Placement] {
        let shown = try await onOwnThread { try fixture.jobs(arguments: ["show", job]) }
        guard shown.status == 0 else { throw TestFailure("show \(job): \(shown)") }
        return JobsTests.tableRows(shown.standardOutput).filter { $0.count == 2 && $0[0] == "Grid job:" }.map { row in
            let words = row[1].split(separator: " ").map(String.init)
            let host = words.firstIndex(of: "on").flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
            return Placement(id: words.first ?? "", host: host, running: row[1].hasSuffix("(Running)"))
        }
    }

    /// Whether a host is one of the two in namespaces (exec1, node2), whose daemon a test may kill.
    static func isNamespaced(_ host: String?, in grid: Grid) -> Bool { host.map(grid.hosts.contains) ?? false }

    /// Whether a process lives (a zombie does not count: it runs no more).
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[close...].hasPrefix(") Z")
    }

    /// "12.3 s", for the figures.
    static func seconds(_ duration: Duration) -> String {
        let tenths = duration.components.seconds * 10 + duration.components.attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10) s"
    }

    // MARK: 1. Jobs land on both hosts

    func jobsLandOnBothHosts(_ grid: Grid) async throws {
        let fixture = try await onOwnThread { try Fixture("fo", serverArguments: ["--backend", grid.backend]) }
        defer { fixture.stop() }
        let names = (0..<6).map { "spread\($0)" }
        for name in names {
            let run = try await onOwnThread {
                try fixture.jobs(arguments: ["run", name, "--command", "sleep 60", "--image", "bookworm"])
            }
            #expect(run.status == 0, "\(run)")
        }
        // Every job placed and running, and the two hosts among their hosts.
        let hosts = try await JobsToolforgeTests.eventually("six jobs running, on \(grid.hosts.joined(separator: " and "))", timeout: .seconds(90)) {
            () async throws -> [String]? in
            var hosts: [String] = []
            for name in names {
                guard let placed = try await Self.placements(fixture, name).first(where: \.running), let host = placed.host else { return nil }
                hosts.append(host)
            }
            return Set(grid.hosts).isSubset(of: hosts) ? hosts : nil
        }
        let counts = Dictionary(hosts.map { ($0, 1) }, uniquingKeysWith: +).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("grid figure: \(grid) six one-off jobs placed: \(counts.joined(separator: ", "))")
        #expect(Set(grid.hosts).isSubset(of: hosts))
    }

    @Test(.enabled("needs root and Son of Grid Engine up with two hosts (scripts/grid-up all --two-hosts)") { await twoHosts(.gridEngine) })
    func jobsLandOnBothSonOfGridEngineHosts() async throws { try await jobsLandOnBothHosts(.gridEngine) }

    @Test(.enabled("needs root and Slurm up with two hosts (scripts/grid-up all --two-hosts)") { await twoHosts(.slurm) })
    func jobsLandOnBothSlurmNodes() async throws { try await jobsLandOnBothHosts(.slurm) }

    // MARK: 2. An execution host's daemon killed

    /// The bound on a failover: the grid's own detection (SGE: 20 s unheard, then 45 s before
    /// it ends the host's jobs; Slurm: SlurmdTimeout 10 s, pinged every few seconds), Kiln's
    /// patience for a vanished job's accounting (20 s), the restart backoff and the new job's
    /// start, with room for a busy machine (SGE took 76-125 s here, and once past 180 s in CI).
    static let failoverBound: Duration = .seconds(240)

    func aContinuousJobComesBackOnTheOtherHost(_ grid: Grid) async throws {
        let fixture = try await onOwnThread { try Fixture("fo", serverArguments: ["--backend", grid.backend]) }
        defer { fixture.stop() }
        // Each life says where it runs and its pid, then waits. Three such jobs spread over the
        // three hosts: the one on a host in a namespace is the one whose host fails.
        let names = ["keep0", "keep1", "keep2"]
        for name in names {
            let command = "echo \"$(hostname -I | cut -d' ' -f1) $$\" >> \(name).lives; while true; do sleep 1; done"
            let run = try await onOwnThread {
                try fixture.jobs(arguments: ["run", name, "--command", command, "--image", "bookworm", "--continuous"])
            }
            #expect(run.status == 0, "\(run)")
        }
        let (name, first) = try await JobsToolforgeTests.eventually("a continuous job running on \(grid.hosts)", timeout: .seconds(90)) {
            () async throws -> (String, Placement)? in
            for name in names {
                if let placed = try await Self.placements(fixture, name).first(where: { $0.running && Self.isNamespaced($0.host, in: grid) }),
                    fixture.read(name + ".lives") != nil
                {
                    return (name, placed)
                }
            }
            return nil
        }
        for other in names where other != name { _ = try await onOwnThread { try fixture.jobs(arguments: ["delete", other]) } }
        let host = first.host ?? "?"
        let lives = { fixture.read(name + ".lives")?.split(separator: "\n").map(String.init) ?? [] }
        let oldPID = try #require(lives().first?.split(separator: " ").last.flatMap { Int32($0) }, "\(lives())")

        // The grid's name of the life on the failing host, to see when the grid lets it go.
        let oldName = try #require(try await grid.jobs(named: "\(fixture.tool).\(name).").first)

        // The host's daemon killed: the job's processes there stay (nothing kills them).
        let killed = ContinuousClock.now
        let (moved, stillThere, restarted) = try await Self.whileStopped(host) {
            () async throws -> (Placement, Bool, ContinuousClock.Instant) in
            var gridLetGo: Duration?
            // What the grid and Kiln say every 15 s, so a slow failover shows where it waited.
            var traced = killed
            let moved = try await JobsToolforgeTests.eventually("\(name) running again, not on \(host)", timeout: Self.failoverBound) {
                () async throws -> Placement? in
                if gridLetGo == nil, try await !grid.jobs(named: oldName).contains(oldName) { gridLetGo = ContinuousClock.now - killed }
                let placements = try await Self.placements(fixture, name)
                if ContinuousClock.now - traced >= .seconds(15) {
                    traced = ContinuousClock.now
                    let (status, hints) = (try? await onOwnThread { () throws -> (String, String) in
                        let shown = try fixture.show(name)
                        return (shown["status"] as? String ?? "?", shown["hints"] as? String ?? "")
                    }) ?? ("?", "")
                    let (program, arguments) = grid.backend == "gridengine" ? ("qstat", ["-u", "*"]) : ("squeue", ["-o", "%i %j %T %N %r"])
                    let listed = try? await Self.grid(program, arguments)
                    print("grid trace: \(grid) \(Self.seconds(traced - killed)) after the kill: \(name) \(status) [\(hints)] at \(placements); the grid lists: \(listed?.standardOutput.split(separator: "\n").joined(separator: " | ") ?? "?")")
                }
                return placements.first { $0.running && $0.host != nil && $0.host != host && $0.id != first.id }
            }
            let took = ContinuousClock.now - killed
            print("grid figure: \(grid) failover: \(host)'s daemon killed, \(name) running on \(moved.host ?? "?") (grid job \(moved.id), was \(first.id)) after \(Self.seconds(took)); the grid let the old job go after \(gridLetGo.map(Self.seconds) ?? "?")")
            #expect(took < Self.failoverBound)
            // The new life began, elsewhere.
            let second = try await JobsToolforgeTests.eventually("the new life's start") { lives().count >= 2 ? lives()[1] : nil }
            #expect(second != lives()[0], "\(lives())")
            let stillThere = Self.alive(oldPID)
            print("grid figure: \(grid) while \(host)'s daemon is down, its old job's process \(oldPID) is \(stillThere ? "still running" : "gone")")
            // The daemon is started as this returns.
            return (moved, stillThere, ContinuousClock.now)
        }
        // The daemon back: its old job is the grid's no more, and its processes are killed.
        try await JobsToolforgeTests.eventually("the old job's process \(oldPID) on \(host) killed", timeout: .seconds(60)) {
            Self.alive(oldPID) ? nil : true
        }
        print("grid figure: \(grid) \(host) back: the old process \(stillThere ? "killed \(Self.seconds(ContinuousClock.now - restarted)) after the daemon's start" : "was already gone")")
        // One life running, on the host it moved to, and two lives in all: none doubled.
        try await Task.sleep(for: .seconds(3))
        let now = try await Self.placements(fixture, name)
        #expect(now.map(\.id) == [moved.id], "\(now)")
        #expect(lives().count == 2, "\(lives())")
        #expect(try await grid.jobs(named: "\(fixture.tool).\(name).").count == 1)
    }

    @Test(.enabled("needs root and Son of Grid Engine up with two hosts (scripts/grid-up all --two-hosts)") { await twoHosts(.gridEngine) })
    func aContinuousJobLeavesAFailedSonOfGridEngineHost() async throws { try await aContinuousJobComesBackOnTheOtherHost(.gridEngine) }

    @Test(.enabled("needs root and Slurm up with two hosts (scripts/grid-up all --two-hosts)") { await twoHosts(.slurm) })
    func aContinuousJobLeavesAFailedSlurmNode() async throws { try await aContinuousJobComesBackOnTheOtherHost(.slurm) }

    // MARK: 3. The controller stopped and started again

    func nothingIsLostNorDoubledWhenTheControllerRestarts(_ grid: Grid) async throws {
        let fixture = try await onOwnThread { try Fixture("fo", serverArguments: ["--backend", grid.backend]) }
        defer { fixture.stop() }
        let keep = try await onOwnThread {
            try fixture.jobs(arguments: [
                "run", "keep", "--command", "echo $$ >> keep.lives; while true; do sleep 1; done", "--image", "bookworm", "--continuous",
            ])
        }
        #expect(keep.status == 0, "\(keep)")
        let running = try await JobsToolforgeTests.eventually("keep running", timeout: .seconds(60)) {
            try await Self.placements(fixture, "keep").first(where: \.running)
        }
        let tick = try await onOwnThread {
            try fixture.jobs(arguments: ["run", "tick", "--command", "date +%s >> tick.runs", "--image", "bookworm", "--schedule", "* * * * *"])
        }
        #expect(tick.status == 0, "\(tick)")
        // Down from 10 s before the next minute: that minute's run falls due while it is down
        // (a minute later when the next minute is too close to make it).
        let now = Date().timeIntervalSince1970
        var minute = (now / 60).rounded(.up) * 60
        if minute - now < 15 { minute += 60 }
        try await Task.sleep(for: .seconds(minute - 10 - Date().timeIntervalSince1970))
        let ranBefore = fixture.read("tick.runs")?.split(separator: "\n").count ?? 0

        let stopped = ContinuousClock.now
        try await Self.whileStopped(grid.controller) {
            let once = try await onOwnThread {
                try fixture.jobs(arguments: ["run", "once", "--command", "echo once >> once.runs", "--image", "bookworm"])
            }
            #expect(once.status == 0, "\(once)")
            // Both wait, and say why.
            for job in ["once", "tick"] {
                let hints = try await JobsToolforgeTests.eventually("\(job) waiting for the grid", timeout: .seconds(60)) {
                    () async throws -> String? in
                    let (status, hints) = try await onOwnThread {
                        let shown = try fixture.show(job)
                        return (shown["status"] as? String, shown["hints"] as? String ?? "")
                    }
                    return status == "Waiting" ? hints : nil
                }
                print("grid figure: \(grid) \(grid.controller) down: \(job) says Waiting: \(hints)")
                #expect(hints.contains("waiting:"), "\(hints)")
            }
        }
        let back = ContinuousClock.now
        print("grid figure: \(grid) \(grid.controller) was down \(Self.seconds(back - stopped))")
        // Every host heard again: a controller that starts with its hosts unknown could end
        // their jobs (SGE's reschedule_unknown) before they report; past it, none was.
        try await JobsToolforgeTests.eventually("\(grid.controller) hears every host", timeout: .seconds(120)) {
            try await Self.grid(grid.allHeard.program, grid.allHeard.arguments).status == 0 ? true : nil
        }
        print("grid figure: \(grid) every host heard again \(Self.seconds(ContinuousClock.now - back)) after \(grid.controller)'s start")
        try await Task.sleep(for: .seconds(6))

        // Back: each ran exactly once, the continuous job is the same single grid job.
        try await JobsToolforgeTests.eventually("once completed", timeout: .seconds(90)) {
            try await onOwnThread { try fixture.show("once")["status"] as? String } == "Completed" ? true : nil
        }
        let ticks = try await JobsToolforgeTests.eventually("the due run of tick ran and all its runs ended", timeout: .seconds(90)) {
            () async throws -> [String?]? in
            // Each run's outcome (nil: not ended).
            let runs = try await onOwnThread { try fixture.runs("tick").map(JobsTests.outcome) }
            let lines = fixture.read("tick.runs")?.split(separator: "\n").count ?? 0
            let ended = runs.allSatisfy { $0 != nil }
            return ended && lines > ranBefore && lines == runs.count ? runs : nil
        }
        let runLines = fixture.read("tick.runs")?.split(separator: "\n").map(String.init) ?? []
        print("grid figure: \(grid) tick: \(ticks.count) runs, \(runLines.count) lines (\(runLines.joined(separator: " ")))")
        #expect(ticks.allSatisfy { $0 == "succeeded" }, "\(ticks)")
        try await Task.sleep(for: .seconds(2))
        #expect(fixture.read("once.runs") == "once\n")
        #expect(fixture.read("keep.lives")?.split(separator: "\n").count == 1, "\(fixture.read("keep.lives") ?? "")")
        let listed = try await grid.jobs(named: "\(fixture.tool).keep.")
        #expect(listed.count == 1, "\(listed)")
        let still = try await Self.placements(fixture, "keep")
        #expect(still.map(\.id) == [running.id], "\(still)")
        print("grid figure: \(grid) keep still grid job \(running.id), \(listed.count) grid job listed")
    }

    @Test(.enabled("needs root and Son of Grid Engine up with two hosts (scripts/grid-up all --two-hosts)") { await twoHosts(.gridEngine) })
    func nothingIsLostNorDoubledWhenTheQmasterRestarts() async throws { try await nothingIsLostNorDoubledWhenTheControllerRestarts(.gridEngine) }

    @Test(.enabled("needs root and Slurm up with two hosts (scripts/grid-up all --two-hosts)") { await twoHosts(.slurm) })
    func nothingIsLostNorDoubledWhenSlurmctldRestarts() async throws { try await nothingIsLostNorDoubledWhenTheControllerRestarts(.slurm) }
}

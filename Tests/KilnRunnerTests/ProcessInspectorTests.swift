import Foundation
import KilnRunner
import Testing

@Suite struct ProcessInspectorTests {
    @Test func aLiveProcessHasAStartTimeThatIdentifiesIt() throws {
        let pid = getpid()
        let start = try #require(ProcessInspector.startTime(of: pid))
        #expect(ProcessInspector.isAlive(pid: pid, start: start))
        // The same pid with another start time is another process (the pid was recycled).
        #expect(!ProcessInspector.isAlive(pid: pid, start: start + 1))
        #expect(ProcessInspector.startTime(of: -1) == nil)
    }

    @Test func aStoppedGroupTakesItsChildrenAlong() async throws {
        // A shell leading its own group (as a replica's server does), with a child of its own.
        let file = NSTemporaryDirectory() + "/kiln-group-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["/bin/sh", "-c", "sleep 300 & echo $$ $! > \(file).tmp; mv \(file).tmp \(file); wait"]
        try process.run()
        var pids: [Int32] = []
        for _ in 0..<300 where pids.count != 2 {
            pids = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: " ")
                .compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try await Task.sleep(for: .milliseconds(10))
        }
        try #require(pids.count == 2)
        let (leader, child) = (pids[0], pids[1])
        let leaderStart = try #require(ProcessInspector.startTime(of: leader))
        let childStart = try #require(ProcessInspector.startTime(of: child))
        await ProcessInspector.stopGroup(leader, start: leaderStart, grace: .seconds(2))
        try await ProcessInspector.waitForExit(pid: child, start: childStart)
        #expect(!ProcessInspector.isAlive(pid: child, start: childStart))
    }
}

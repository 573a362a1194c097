import KilnCore
import Testing

@testable import KilnRunner

/// The grid's states in Kiln's words, which of them are ends, and what an end says alone.
@Suite struct GridJobStateTests {
    static let all: [GridJobState] = [
        .pending(reason: "Resources"), .held(reason: "JobHeldUser"), .running, .suspended, .ending, .completed, .failed(reason: nil),
        .error(reason: "can't chdir"), .cancelled, .timedOut, .outOfMemory, .nodeFailed, .other("WHAT"),
    ]

    @Test func wordsAreKilns() {
        #expect(Self.all.map(\.word) == [
            "Pending", "Pending (held)", "Running", "Suspended", "Ending", "Completed", "Failed", "Failed (grid error)", "Cancelled",
            "Timed out", "Failed (out of memory)", "Failed (node failure)", "Unknown (WHAT)",
        ])
    }

    @Test func onlyEndsAreFinished() {
        #expect(Self.all.filter(\.isFinished) == [.completed, .failed(reason: nil), .cancelled, .timedOut, .outOfMemory, .nodeFailed])
    }

    @Test func reasonsAreKept() {
        #expect(Self.all.compactMap(\.reason) == ["Resources", "JobHeldUser", "can't chdir"])
    }

    @Test func whatAnEndSaysAlone() {
        let memory = MemorySize(bytes: 1 << 30)
        #expect(GridJobState.completed.impliedStatus(memory: memory) == .exited(code: 0))
        #expect(GridJobState.outOfMemory.impliedStatus(memory: memory) == .outOfMemory(limit: memory))
        #expect(GridJobState.cancelled.impliedStatus(memory: memory) == .signaled(signal: 15))
        #expect(GridJobState.timedOut.impliedStatus(memory: memory) == .signaled(signal: 9))
        #expect(GridJobState.failed(reason: nil).impliedStatus(memory: memory) == nil)
        #expect(GridJobState.nodeFailed.impliedStatus(memory: memory) == nil)
        #expect(GridJobState.running.impliedStatus(memory: memory) == nil)
    }

    @Test func jobNamesSayToolJobRunAndAttemptAndReadBack() throws {
        let name = GridJobName(tool: try ToolName("bot"), job: "daily-dump", runID: 12, attempt: 2)
        #expect(name.description == "bot.daily-dump.12.2")
        #expect(GridJobName(parsing: "bot.daily-dump.12.2") == name)
        for foreign in ["wrap", "bot.j.x.1", "bot.j.1", "bot.J.1.1", "a.b.c.d.e", "bot..1.1", "bot.j.-1.1", ""] {
            #expect(GridJobName(parsing: foreign) == nil)
        }
    }

    @Test func limitsAreWrittenAsEachGridReadsThem() {
        #expect(GridEngineDialect.memory(MemorySize(bytes: 512 << 20)) == "512M")
        #expect(GridEngineDialect.memory(MemorySize(bytes: 2 << 30)) == "2G")
        #expect(GridEngineDialect.memory(MemorySize(bytes: 500_000_000)) == "488282K")
        #expect(GridEngineDialect.time(3661) == "1:01:01")
        #expect(GridEngineDialect.time(60) == "0:01:00")
        #expect(GridEngineDialect.wholeUnits(61, of: 60) == 2)
        #expect(GridEngineDialect.wholeUnits(0, of: 60) == 1)
    }
}

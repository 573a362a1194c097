import KilnCore
import Testing

@testable import KilnRunner

/// `qacct -j` records as SGE 8.1.9 wrote them here, and the ends they mean.
@Suite struct GridEngineAccountingParserTests {
    static func record(failed: String, exit: String, maxvmem: String = "0.000B", host: String = "exec1") -> String {
        """
        ==============================================================
        qname        all.q
        hostname     \(host)
        group        tools.bot
        owner        tools.bot
        jobname      bot.j.12.1
        jobnumber    10
        taskid       undefined
        qsub_time    Tue Dec  1 03:46:27 2026
        failed       \(failed)
        exit_status  \(exit)
        ru_wallclock 0s
        maxvmem      \(maxvmem)
        category     -l h_rt=90,h_vmem=256M
        """
    }

    let limit = MemorySize(bytes: 256 << 20)

    func status(_ text: String) -> KilnCore.ExitStatus? {
        GridEngineAccountingParser.parse(text).map { GridEngineAccountingParser.status($0, memory: limit) }
    }

    @Test func anExitCodeIsTheJobs() {
        #expect(status(Self.record(failed: "0", exit: "0")) == .exited(code: 0))
        #expect(status(Self.record(failed: "0", exit: "3")) == .exited(code: 3))
        #expect(GridEngineAccountingParser.parse(Self.record(failed: "0", exit: "3"))?.host == "exec1")
    }

    @Test func aKilledJobIsReportedKilledBySignal() {
        #expect(status(Self.record(failed: "100 : assumedly after job", exit: "137                  (Killed)")) == .signaled(signal: 9))
        #expect(status(Self.record(failed: "0", exit: "143")) == .signaled(signal: 15))
    }

    @Test func aLimitEnforcedPastTheMemoryLimitIsOutOfMemory() {
        let overMemory = Self.record(failed: "37  : qmaster enforced h_rt, h_cpu, or h_vmem limit", exit: "137", maxvmem: "300.000M")
        #expect(status(overMemory) == .outOfMemory(limit: limit))
        let overTime = Self.record(failed: "37  : qmaster enforced h_rt, h_cpu, or h_vmem limit", exit: "0", maxvmem: "20.000M")
        #expect(status(overTime) == .signaled(signal: 9))
    }

    @Test func aJobSGECouldNotStartNeverRan() {
        let output = Self.record(failed: "28  : changing to working directory", exit: "0")
        #expect(status(output) == .couldNotStart(reason: "the grid could not start it: changing to working directory"))
        #expect(status(Self.record(failed: "26 : opening output file", exit: "0")).map { if case .couldNotStart = $0 { true } else { false } } == true)
    }

    @Test func theLastRecordOfARescheduledJobIsItsEnd() {
        let output = Self.record(failed: "25 : rescheduling", exit: "137") + "\n" + Self.record(failed: "0", exit: "4", host: "exec2")
        #expect(status(output) == .exited(code: 4))
        #expect(GridEngineAccountingParser.parse(output)?.host == "exec2")
    }

    @Test func noRecordIsNotAnEnd() {
        #expect(GridEngineAccountingParser.parse("error: job id 5 not found\n") == nil)
        #expect(GridEngineAccountingParser.parse("") == nil)
        #expect(GridEngineAccountingParser.parse("==========\nfailed x\nexit_status y\n") == nil)
    }

    @Test func memoryFiguresAreBinary() {
        #expect(GridEngineAccountingParser.memory("1.000G") == Double(1 << 30))
        #expect(GridEngineAccountingParser.memory("512.000M") == Double(512 << 20))
        #expect(GridEngineAccountingParser.memory("4.453K") == 4.453 * 1024)
        #expect(GridEngineAccountingParser.memory("0.000") == 0)
        #expect(GridEngineAccountingParser.memory("lots") == nil)
    }
}

import KilnCore
import Testing

@testable import KilnRunner

/// `sacct -X -n -P -o JobID,State,ExitCode,NodeList` and `scontrol -o show job` as Slurm 22.05
/// writes them, and the ends they mean.
@Suite struct SlurmAccountingParserTests {
    let limit = MemorySize(bytes: 256 << 20)

    func sacct(_ output: String, _ id: String = "8") -> KilnCore.ExitStatus? {
        SlurmAccountingParser.parseSacct(output, jobID: id).flatMap { SlurmAccountingParser.status($0, memory: limit) }
    }

    @Test func exitCodesAndSignals() {
        #expect(sacct("8|COMPLETED|0:0|node1\n") == .exited(code: 0))
        #expect(sacct("8|FAILED|3:0|node1\n") == .exited(code: 3))
        #expect(sacct("8|FAILED|0:9|node1\n") == .signaled(signal: 9))
        #expect(sacct("8|FAILED|137:0|node1\n") == .signaled(signal: 9))
        #expect(sacct("8|CANCELLED by 992|0:15|vm\n") == .signaled(signal: 15))
        #expect(sacct("8|CANCELLED by 992|0:0|vm\n") == .signaled(signal: 15))
        #expect(sacct("8|TIMEOUT|0:0|vm\n") == .signaled(signal: 9))
        #expect(sacct("8|OUT_OF_MEMORY|0:125|node1\n") == .outOfMemory(limit: limit))
        #expect(sacct("8|NODE_FAIL|0:0|node2\n") == .unknown)
    }

    @Test func onlyTheJobsOwnLineCountsNotItsSteps() {
        let output = "8.batch|FAILED|2:0|node1\n8|FAILED|2:0|node1\n8.extern|COMPLETED|0:0|node1\n"
        #expect(sacct(output) == .exited(code: 2))
        #expect(SlurmAccountingParser.parseSacct(output, jobID: "8")?.host == "node1")
        #expect(sacct(output, "9") == nil)
    }

    @Test func aJobStillGoingHasNoEnd() {
        #expect(sacct("8|RUNNING|0:0|node1\n") == nil)
        #expect(sacct("8|PENDING|0:0|\n") == nil)
        #expect(sacct("8|FAILED|x:y|node1\n") == nil)
        #expect(sacct("") == nil)
    }

    static let scontrol = """
        JobId=8 JobName=bot.j.12.1 UserId=tools.bot(593) GroupId=tools.bot(592) MCS_label=N/A Priority=4294901752 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:00 TimeLimit=365-00:00:00 TimeMin=N/A SubmitTime=2026-12-01T03:52:07 EligibleTime=2026-12-01T03:52:07 StartTime=2026-12-01T03:52:08 EndTime=2026-12-01T03:52:08 Partition=kiln NodeList=node1 BatchHost=node1 NumNodes=1 NumCPUs=1 TRES=cpu=1,mem=64M,node=1,billing=1 Command=/tmp/h/.kiln/grid/run-12.1.sh WorkDir=/ StdErr=/dev/null StdIn=/dev/null StdOut=/dev/null Power=
        """

    @Test func scontrolSaysTheEndWhileTheControllerHoldsTheJob() {
        let record = SlurmAccountingParser.parseScontrol(Self.scontrol, jobID: "8")
        #expect(record?.state == .failed(reason: "NonZeroExitCode"))
        #expect(record?.host == "node1")
        #expect(record.flatMap { SlurmAccountingParser.status($0, memory: limit) } == .exited(code: 3))
        #expect(SlurmAccountingParser.parseScontrol(Self.scontrol, jobID: "9") == nil)
        #expect(SlurmAccountingParser.parseScontrol("slurm_load_jobs error: Invalid job id specified", jobID: "8") == nil)
        let oom = Self.scontrol.replacingOccurrences(of: "JobState=FAILED Reason=NonZeroExitCode", with: "JobState=OUT_OF_MEMORY Reason=OutOfMemory")
            .replacingOccurrences(of: "ExitCode=3:0", with: "ExitCode=0:125")
        #expect(SlurmAccountingParser.parseScontrol(oom, jobID: "8").flatMap { SlurmAccountingParser.status($0, memory: limit) } == .outOfMemory(limit: limit))
    }

    @Test func exitCodeFieldsAreChecked() {
        #expect(SlurmAccountingParser.exitCode("0:0").map { $0 == (0, 0) } == true)
        #expect(SlurmAccountingParser.exitCode("255:9").map { $0 == (255, 9) } == true)
        #expect(SlurmAccountingParser.exitCode("256:0") == nil)
        #expect(SlurmAccountingParser.exitCode("0:-1") == nil)
        #expect(SlurmAccountingParser.exitCode("0") == nil)
        #expect(SlurmAccountingParser.exitCode("") == nil)
    }
}

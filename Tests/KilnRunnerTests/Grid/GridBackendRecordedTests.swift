import Foundation
import KilnCore
import KilnFiles
import KilnTesting
import Testing

@testable import KilnRunner

#if canImport(Glibc)
import Glibc
#endif

/// Both grid backends against recorded grids: what they submit and as whom, what they write in
/// the tool's home, how each way of learning an end is taken, and how an unreachable grid and a
/// refusal are told apart. Fast: no grid runs.
@Suite struct GridBackendRecordedTests {
    let home: String
    static let secret = "s3cr3t-'\"$(x)`y`"

    init() throws {
        home = try TestToolUser.makeHome(prefix: "kgb")
    }

    static func configuration(_ base: GridConfiguration) -> GridConfiguration {
        var configuration = base
        configuration.queue = "kiln"
        configuration.pollInterval = .milliseconds(20)
        configuration.unreachablePollInterval = .milliseconds(80)
        configuration.listingMaximumAge = .milliseconds(5)
        configuration.accountingPatience = .milliseconds(300)
        return configuration
    }

    func submission(timeout: Int? = 60, cpu: Int = 1500) throws -> JobSubmission {
        JobSubmission(
            tool: try ToolName("bot"), job: "j", runID: 12, attempt: 1, command: "echo \"$TOKEN\"",
            image: try JobImageCatalogue.standard.resolve("bookworm"), user: TestToolUser.identity, home: home,
            workingDirectory: home, output: HomePath(platform: "j.out"), error: HomePath(platform: "j.err"),
            memory: MemorySize(bytes: 512 << 20), cpu: CPUQuantity(millicores: cpu), timeout: timeout,
            environment: ["KILN_REPLICA": "0"], toolEnvironment: ["TOKEN": Self.secret])
    }

    static let qstatEmpty = "<?xml version='1.0'?>\n<job_info><queue_info></queue_info><job_info></job_info></job_info>\n"

    static func qstat(_ number: String, _ letters: String, host: String? = nil) -> String {
        """
        <?xml version='1.0'?>
        <job_info><queue_info><job_list state="running"><JB_job_number>\(number)</JB_job_number>
        <JB_name>bot.j.12.1</JB_name><JB_owner>nobody</JB_owner><state>\(letters)</state>
        <queue_name>\(host.map { "all.q@\($0)" } ?? "")</queue_name><slots>1</slots></job_list></queue_info><job_info></job_info></job_info>
        """
    }

    func gridEngine(_ answer: @escaping @Sendable (GridCommand) throws(KilnError) -> GridCommand.Result) -> (any JobBackend, RecordedGridRunner) {
        let runner = RecordedGridRunner(answer)
        return (GridJobBackends.gridEngine(configuration: Self.configuration(.gridEngine()), runner: runner), runner)
    }

    func slurm(_ answer: @escaping @Sendable (GridCommand) throws(KilnError) -> GridCommand.Result) -> (any JobBackend, RecordedGridRunner) {
        let runner = RecordedGridRunner(answer)
        return (GridJobBackends.slurm(configuration: Self.configuration(.slurm()), runner: runner), runner)
    }

    func writeExit(_ text: String) throws {
        try writeAsTool(text, to: ".kiln/grid/run-12.1.exit", inHome: home)
    }

    // MARK: Submission

    @Test func sgeSubmitsTheWrapperAsTheToolWithNameLimitsAndQueue() async throws {
        let (backend, runner) = gridEngine { _ in GridCommand.Result(status: 0, output: "42\n") }
        let handle = try await backend.submit(try submission())
        #expect(handle.backend == "gridengine")
        #expect(handle.id == "42")
        #expect(handle.grid?.jobID == "42")
        #expect(handle.grid?.attempt == "run-12.1")
        #expect(handle.grid?.queue == "kiln")
        #expect(handle.grid?.user == TestToolUser.identity)
        let qsub = try #require(runner.commands("qsub").first)
        #expect(qsub.user == TestToolUser.identity)
        let wrapper = home + "/.kiln/grid/run-12.1.sh"
        #expect(qsub.arguments == [
            "-terse", "-b", "y", "-shell", "no", "-notify", "-r", "n", "-N", "bot.j.12.1", "-o", "/dev/null", "-j", "y", "-wd", "/",
            "-q", "kiln", "-l", "h_vmem=256M,h_rt=0:02:00", "-pe", "smp", "2", "/bin/sh", wrapper,
        ])
        try expectFilesHoldTheSecretOnlyInTheEnvironment()
    }

    @Test func slurmSubmitsTheWrapperAsTheToolWithNameLimitsAndPartition() async throws {
        let (backend, runner) = slurm { _ in GridCommand.Result(status: 0, output: "77;kiln\n") }
        let handle = try await backend.submit(try submission(timeout: 600, cpu: 250))
        #expect(handle.backend == "slurm")
        #expect(handle.id == "77")
        let sbatch = try #require(runner.commands("sbatch").first)
        #expect(sbatch.user == TestToolUser.identity)
        #expect(sbatch.arguments == [
            "--parsable", "--job-name=bot.j.12.1", "--output=/dev/null", "--error=/dev/null", "--chdir=/", "--export=NONE",
            "--no-requeue", "--cpus-per-task=1", "--mem=512M", "--time=11", "--partition=kiln", home + "/.kiln/grid/run-12.1.sh",
        ])
        try expectFilesHoldTheSecretOnlyInTheEnvironment()
    }

    @Test func aContinuousJobHasNoTimeLimit() async throws {
        let (backend, runner) = slurm { _ in GridCommand.Result(status: 0, output: "5\n") }
        _ = try await backend.submit(try submission(timeout: nil))
        #expect(runner.commands("sbatch").first?.arguments.contains { $0.hasPrefix("--time") } == false)
    }

    func expectFilesHoldTheSecretOnlyInTheEnvironment() throws {
        let folder = home + "/.kiln/grid/"
        let script = try String(contentsOfFile: folder + "run-12.1.sh", encoding: .utf8)
        let environment = try String(contentsOfFile: folder + "run-12.1.env", encoding: .utf8)
        #expect(!script.contains("s3cr3t"))
        #expect(environment.contains("TOKEN="))
        #expect(environment.contains("KILN_REPLICA='0'"))
        for file in ["run-12.1.sh", "run-12.1.env"] {
            var info = stat()
            #expect(stat(folder + file, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            #expect(info.st_uid == FileOwner(TestToolUser.identity).uid)
        }
        // The log files are there, the tool's, before the job appends to them.
        #expect(FileManager.default.fileExists(atPath: home + "/j.out"))
        #expect(FileManager.default.fileExists(atPath: home + "/j.err"))
    }

    @Test func aLinkPlantedWhereTheWrapperGoesIsReplacedNotFollowed() async throws {
        try writeAsTool("", to: ".kiln/grid/placeholder", inHome: home)
        let target = home + "/elsewhere"
        try "mine\n".write(toFile: target, atomically: true, encoding: .utf8)
        symlink(target, home + "/.kiln/grid/run-12.1.sh")
        let (backend, _) = gridEngine { _ in GridCommand.Result(status: 0, output: "1\n") }
        _ = try await backend.submit(try submission())
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "mine\n")
        var info = stat()
        #expect(lstat(home + "/.kiln/grid/run-12.1.sh", &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG)
    }

    @Test func anUnreachableGridIsARetryableErrorOfItsOwnAndLeavesNothing() async throws {
        let (slurmBackend, _) = slurm { _ in
            GridCommand.Result(status: 1, error: "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n")
        }
        await expectUnreachable { try await slurmBackend.submit(try submission()) }
        #expect(!FileManager.default.fileExists(atPath: home + "/.kiln/grid/run-12.1.env"))
        let (sgeBackend, _) = gridEngine { _ in
            GridCommand.Result(status: 1, error: "error: commlib error: got select error (Connection refused)\nunable to send message to qmaster using port 6444 on host \"vm\": got send error\n")
        }
        await expectUnreachable { try await sgeBackend.submit(try submission()) }
        let (silentBackend, _) = gridEngine { command throws(KilnError) in throw KilnError.gridUnreachable("qsub took longer than 30 seconds") }
        await expectUnreachable { try await silentBackend.submit(try submission()) }
    }

    func expectUnreachable(_ body: () async throws -> JobHandle) async {
        do {
            _ = try await body()
            Issue.record("the submission succeeded")
        } catch let error as KilnError {
            #expect(error.isGridUnreachable)
            #expect(error.code == .unavailable)
            #expect(error.context["grid"] == "unreachable")
        } catch {
            Issue.record("not a KilnError: \(error)")
        }
    }

    @Test func aRefusalIsNotUnreachable() async throws {
        let (backend, _) = slurm { _ in
            GridCommand.Result(status: 1, error: "sbatch: error: Memory specification can not be satisfied\nsbatch: error: Batch job submission failed: Requested node configuration is not available\n")
        }
        let refused = try submission()
        do {
            _ = try await backend.submit(refused)
            Issue.record("the submission succeeded")
        } catch {
            #expect(!error.isGridUnreachable)
            #expect(error.context["grid"] == "refused")
            #expect(error.message.contains("Requested node configuration is not available"))
        }
    }

    @Test(.enabled(if: geteuid() == 0, "only root must refuse a tool without a user"))
    func rootNeverSubmitsAToolsJobAsRoot() async throws {
        let (backend, runner) = gridEngine { _ in GridCommand.Result(status: 0, output: "1\n") }
        var rootless = try submission()
        rootless.user = nil
        await #expect(throws: KilnError.self) { try await backend.submit(rootless) }
        #expect(runner.commands.isEmpty)
    }

    // MARK: Ends

    @Test func theExitFileSaysTheEndAndTheFilesGo() async throws {
        let script = GridScript()
        let (backend, _) = gridEngine { command in
            switch command.program {
            case "qsub": GridCommand.Result(status: 0, output: "42\n")
            case "qstat": GridCommand.Result(status: 0, output: script["done"] == nil ? Self.qstat("42", "r", host: "exec1") : Self.qstatEmpty)
            default: GridCommand.Result(status: 1)
            }
        }
        let handle = try await backend.submit(try submission())
        #expect(await backend.isRunning(handle))
        let placement = await backend.placement(of: handle)
        #expect(placement?.host == "exec1")
        #expect(placement?.state == "Running")
        try writeExit("3\n")
        script["done"] = "yes"
        #expect(try await backend.waitForEnd(handle) == .exited(code: 3))
        #expect(!FileManager.default.fileExists(atPath: home + "/.kiln/grid/run-12.1.exit"))
        #expect(!FileManager.default.fileExists(atPath: home + "/.kiln/grid/run-12.1.sh"))
        #expect(await !backend.isRunning(handle))
        // A second waiter (the monitor after a cancel) learns the same end at once.
        #expect(try await backend.waitForEnd(handle) == .exited(code: 3))
    }

    @Test func aJobKilledBeforeItsWrapperEndedIsToldByAccounting() async throws {
        let (backend, runner) = gridEngine { command in
            switch command.program {
            case "qsub": GridCommand.Result(status: 0, output: "43\n")
            case "qstat": GridCommand.Result(status: 0, output: Self.qstatEmpty)
            case "qacct":
                GridCommand.Result(status: 0, output: GridEngineAccountingParserTests.record(failed: "100 : assumedly after job", exit: "137"))
            default: GridCommand.Result(status: 1)
            }
        }
        let handle = try await backend.submit(try submission())
        #expect(try await backend.waitForEnd(handle) == .signaled(signal: 9))
        #expect(runner.commands("qacct").first?.arguments == ["-j", "43"])
        #expect(runner.commands("qacct").first?.user == nil)
    }

    @Test func slurmWithoutAccountingAsksTheControllerAndThenGivesUpOnSacct() async throws {
        let (backend, runner) = slurm { command in
            switch command.program {
            case "sbatch": GridCommand.Result(status: 0, output: "8\n")
            case "squeue": GridCommand.Result(status: 0, output: "8|OUT_OF_MEMORY|OutOfMemory|node1|kiln|nobody|bot.j.12.1\n")
            case "sacct": GridCommand.Result(status: 1, error: "Slurm accounting storage is disabled\n")
            case "scontrol":
                GridCommand.Result(
                    status: 0,
                    output: SlurmAccountingParserTests.scontrol.replacingOccurrences(of: "JobState=FAILED Reason=NonZeroExitCode", with: "JobState=OUT_OF_MEMORY Reason=OutOfMemory"))
            default: GridCommand.Result(status: 1)
            }
        }
        let first = try await backend.submit(try submission())
        #expect(try await backend.waitForEnd(first) == .outOfMemory(limit: MemorySize(bytes: 512 << 20)))
        var again = try submission()
        again.attempt = 2
        let second = try await backend.submit(again)
        _ = try await backend.waitForEnd(JobHandle(backend: second.backend, id: "8x", grid: second.grid))
        #expect(runner.commands("sacct").count == 1)
    }

    @Test func aJobStuckInAnErrorStateIsRemovedAsTheToolAndCouldNotStart() async throws {
        let (backend, runner) = gridEngine { command in
            switch (command.program, command.arguments.first) {
            case ("qsub", _): GridCommand.Result(status: 0, output: "44\n")
            case ("qstat", "-xml"): GridCommand.Result(status: 0, output: Self.qstat("44", "Eqw"))
            case ("qstat", "-j"):
                GridCommand.Result(status: 0, output: "error reason          1:      12/01/2026 03:46:27 [593:32471]: error: can't chdir to /gone: No such file or directory\n")
            case ("qdel", _): GridCommand.Result(status: 0, output: "nobody has deleted job 44\n")
            default: GridCommand.Result(status: 1)
            }
        }
        let handle = try await backend.submit(try submission())
        #expect(try await backend.waitForEnd(handle) == .couldNotStart(reason: "error: can't chdir to /gone: No such file or directory"))
        let qdel = try #require(runner.commands("qdel").first)
        #expect(qdel.arguments == ["44"])
        #expect(qdel.user == TestToolUser.identity)
    }

    /// qmaster away while a job runs: the attempt is still waited for (not failed), and its end
    /// is known once the exit file comes.
    @Test func waitingOutlastsAnUnreachableGrid() async throws {
        let (backend, runner) = gridEngine { command throws(KilnError) in
            switch command.program {
            case "qsub": return GridCommand.Result(status: 0, output: "45\n")
            case "qstat": return GridCommand.Result(status: 1, error: "error: commlib error: got select error (Connection refused)\n")
            default: return GridCommand.Result(status: 1)
            }
        }
        let handle = try await backend.submit(try submission())
        // Cannot be told: counted as running, so that the monitor starts nothing twice.
        #expect(await backend.isRunning(handle))
        let waiter = Task { try await backend.waitForEnd(handle) }
        try await Task.sleep(for: .milliseconds(400))
        let looks = runner.commands("qstat").count
        #expect(looks >= 2 && looks <= 12)
        try writeExit("0\n")
        #expect(try await waiter.value == .exited(code: 0))
    }

    @Test func cancellingTheWaitLeavesTheJob() async throws {
        let (backend, runner) = slurm { command in
            switch command.program {
            case "sbatch": GridCommand.Result(status: 0, output: "9\n")
            case "squeue": GridCommand.Result(status: 0, output: "9|RUNNING|None|node2|kiln|nobody|bot.j.12.1\n")
            default: GridCommand.Result(status: 1)
            }
        }
        let handle = try await backend.submit(try submission())
        let waiter = Task { try await backend.waitForEnd(handle) }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(runner.commands("scancel").isEmpty)
        #expect(await backend.placement(of: handle)?.host == "node2")
    }

    @Test func slurmCancelsARunningJobWithTermThenKill() async throws {
        let (backend, runner) = slurm { command in
            switch command.program {
            case "sbatch": GridCommand.Result(status: 0, output: "10\n")
            case "squeue": GridCommand.Result(status: 0, output: "10|RUNNING|None|node2|kiln|nobody|bot.j.12.1\n")
            default: GridCommand.Result(status: 0)
            }
        }
        let handle = try await backend.submit(try submission())
        await backend.cancel(handle, grace: .milliseconds(300))
        let scancels = runner.commands("scancel")
        #expect(scancels.map(\.arguments) == [["--signal=TERM", "--full", "10"], ["--signal=KILL", "--full", "10"], ["10"]])
        #expect(scancels.allSatisfy { $0.user == TestToolUser.identity })
    }

    @Test func slurmCancelsAPendingJobAtOnce() async throws {
        let (backend, runner) = slurm { command in
            switch command.program {
            case "sbatch": GridCommand.Result(status: 0, output: "11\n")
            case "squeue": GridCommand.Result(status: 0, output: "11|PENDING|Resources||kiln|nobody|bot.j.12.1\n")
            default: GridCommand.Result(status: 0)
            }
        }
        let handle = try await backend.submit(try submission())
        await backend.cancel(handle, grace: .seconds(5))
        #expect(runner.commands("scancel").map(\.arguments) == [["11"]])
    }

    /// A thousand waiters share listings: one `qstat` serves all those waiting at once.
    @Test func waitersShareOneListing() async throws {
        let (backend, runner) = gridEngine { command in
            switch command.program {
            case "qstat": GridCommand.Result(status: 0, output: Self.qstat("1", "r"))
            default: GridCommand.Result(status: 1)
            }
        }
        let handles = (0..<200).map { index in
            JobHandle(
                backend: "gridengine", id: "\(1000 + index)",
                grid: GridPlacement(jobID: "\(1000 + index)", user: TestToolUser.identity, home: home, attempt: "run-\(index).1"))
        }
        await withTaskGroup(of: Bool.self) { group in
            for handle in handles { group.addTask { await backend.isRunning(handle) } }
        }
        #expect(runner.commands("qstat").count < 20)
    }
}

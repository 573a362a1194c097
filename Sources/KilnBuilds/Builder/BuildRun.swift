import Foundation
import KilnCore
import KilnFiles
import KilnRunner
import KilnStore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One build, from clone to export: each step's programs run as the tool (`ProcessRunner`:
/// its user, its control group, the build quota's memory and CPU), their output appended to the
/// build's log, the build's folders held to its disk quota (`BuildRun+Disk`), each transition
/// recorded (`BuildLifecycle`) as it happens.
struct BuildRun: Sendable {
    let record: BuildRecord
    let user: UnixIdentity?
    let home: String
    /// The tool's build folder (logs, caches).
    let work: ConfinedDirectory
    let configuration: BuildService.Configuration
    let limits: ResourceLimits
    let store: KilnStore
    let logger: Logger
    /// When the build began: the log's lines say how far into it they were written.
    let began = ContinuousClock.now

    /// Why a build stopped before its end.
    enum Stop: Error {
        case failed(String)
        case cancelled
        /// The build's folders held more than its disk quota.
        case overDisk(BuildDiskUse)
    }

    var owner: FileOwner { FileOwner(user) }
    var logPath: HomePath { BuildService.logPath(record.number) }
    var commitPath: HomePath { HomePath(platform: "logs", "\(record.number).commit") }

    /// Runs the build to its end, or until `deadline` has passed (a timeout) or the task is
    /// cancelled (`build cancel`).
    func execute(deadline: Duration) async {
        let progress = BuildProgress(record: record, store: store, logger: logger)
        let timedOut = TimeoutFlag()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await Task.sleep(for: deadline)
                    timedOut.set()
                } catch {}
            }
            group.addTask { await self.steps(progress: progress, timedOut: timedOut) }
            await group.next()
            group.cancelAll()
        }
    }

    /// A build cancelled while it waited for a slot: recorded so, nothing having run.
    func cancelWhilePending() async {
        let progress = BuildProgress(record: record, store: store, logger: logger)
        log("==> cancelled before it started")
        await Task { try? await progress.apply(.cancelRequested, stamp: .ended) }.value
    }

    private func steps(progress: BuildProgress, timedOut: TimeoutFlag) async {
        var image: String?
        do {
            try await progress.apply(.stepBegan(.clone), stamp: .started)
            log("==> build \(record.id) of \(record.parameters.sourceURL)\(record.parameters.ref.map { " at \($0)" } ?? "") into \(record.image)")
            let folder = try configuration.images.prepare(tool: record.tool, owner: owner, name: record.parameters.imageName, tag: record.number)
            image = folder
            try work.makeDirectory(Self.cachePath)
            let folders = BuildPlan.Folders(image: folder, cache: Self.cachePath.absolute(in: work.path))
            try await clone(into: folders)

            try await progress.apply(.stepBegan(.detect))
            let facts = try SourceFacts.read(checkout: folders.app, owner: owner)
            var toolchain = configuration.toolchain
            if !facts.aptPackages.isEmpty { toolchain.installedPackages = await BuildToolchain.installedPackages(among: facts.aptPackages) }
            let plan = try BuildPlan(
                facts: facts, toolchain: toolchain, folders: folders, useLatestVersions: record.parameters.useLatestVersions)
            log("==> detected \(plan.language.rawValue): \(plan.runtimeSummary)")
            for process in plan.launch.processes { log("    process \(process.type): \(process.command)") }

            for command in plan.commands {
                if await progress.step != command.step { try await progress.apply(.stepBegan(command.step)) }
                // Paths inside the image said from its top, as the log and the failure say them.
                let display = command.display.replacingOccurrences(of: folders.image + "/", with: "")
                log("==> \(command.step.rawValue): \(display)")
                try await run(
                    command.program, command.arguments, in: command.workingDirectory,
                    environment: command.environment.merging(record.parameters.environment) { own, _ in own }, display: display)
            }

            try await progress.apply(.stepBegan(.export))
            log("==> export: sealing the image")
            let sealed = try configuration.images.tree(tool: record.tool, owner: owner, name: record.parameters.imageName, tag: record.number)
                .seal(maximumBytes: configuration.quota.imageBytes, dropping: [["app", ".git"]])
            let manifest = ImageManifest(
                tool: record.tool, name: record.parameters.imageName, tag: record.number, buildID: record.id,
                sourceURL: record.parameters.sourceURL, ref: record.parameters.ref, commit: commit(), createdAt: Date(),
                digest: sealed.digest, sizeBytes: sealed.sizeBytes, launch: plan.launch)
            try configuration.images.writeManifest(manifest, owner: owner)
            let dropped = try await store.addImage(manifest, keeping: configuration.quota.imagesKept)
            for old in dropped {
                do {
                    try configuration.images.remove(tool: old.tool, owner: owner, name: old.name, tag: old.tag)
                } catch {
                    logger.warning("cannot remove an image past the tool's quota", metadata: ["image": "\(old.reference)", "error": "\(error)"])
                }
            }
            log("==> built \(record.image) (\(manifest.reference), \(sealed.files) files, \(MemorySize(bytes: sealed.sizeBytes)), \(sealed.digest))")
            try await progress.apply(.exported(tag: record.number), stamp: .ended, digest: sealed.digest)
        } catch {
            let event: BuildLifecycle.Event
            switch error {
            case Stop.cancelled where timedOut.isSet:
                event = .deadlinePassed
                log("==> stopped: the build ran past its time limit (\(configuration.quota.duration))")
            case Stop.cancelled:
                event = .cancelRequested
                log("==> cancelled")
            case Stop.failed(let reason):
                event = .stepFailed(reason: reason)
                log("==> failed: \(reason)")
            case Stop.overDisk(let use):
                // `build show` names the step before the reason; the log names it here.
                let over = use.overQuota(configuration.quota.diskBytes)
                let step = await progress.step
                event = .stepFailed(reason: "it used " + over)
                log("==> failed: \(step.map { "step '\($0.rawValue)'" } ?? "the build") used \(over)")
            case let error as KilnError:
                event = .stepFailed(reason: error.message)
                log("==> failed: \(error.message)")
            default:
                event = .stepFailed(reason: "\(error)")
                log("==> failed: \(error)")
            }
            if let image {
                do {
                    try ImageTree(path: image, builder: owner, sealedOwner: configuration.images.sealedOwner(for: owner)).remove()
                } catch {
                    logger.warning("cannot remove a failed build's image", metadata: ["build": "\(record.id)", "error": "\(error)"])
                }
            }
            // Recorded outside this task, which may be cancelled (the store refuses a cancelled task's writes).
            await Task { try? await progress.apply(event, stamp: .ended) }.value
        }
    }

    /// Clones the repository as the tool into `app/` (only the protocols a repository is
    /// reached by; never an option: `--` before the URL), then checks out the ref asked for.
    private func clone(into folders: BuildPlan.Folders) async throws {
        let url = record.parameters.sourceURL
        if let ref = record.parameters.ref {
            log("==> clone: git clone \(url) (ref \(ref))")
            try await run(Self.git, ["clone", "--no-hardlinks", "--no-checkout", "--", url, "app"], in: folders.image)
            try await run(
                "/bin/sh", ["-c", "git checkout -q --detach \"origin/$1\" -- 2>/dev/null || git checkout -q --detach \"$1\" --", "checkout", ref],
                in: folders.app)
        } else {
            log("==> clone: git clone \(url)")
            try await run(Self.git, ["clone", "--no-hardlinks", "--", url, "app"], in: folders.image)
        }
        try await run(Self.git, ["rev-parse", "HEAD"], in: folders.app, output: commitPath)
    }

    static let git = "/usr/bin/git"

    /// The commit `rev-parse` wrote.
    private func commit() -> String? {
        guard let descriptor = try? work.openForReading(commitPath) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor.rawValue, $0.baseAddress, $0.count) }
        _ = work.removeFile(commitPath)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.utf8.count == 40 || text.utf8.count == 64 ? text : nil
    }

    /// Runs one program as the tool; anything but exit code 0 stops the build.
    private func run(
        _ program: String, _ arguments: [String], in directory: String, environment: [String: String] = [:], output: HomePath? = nil,
        display: String? = nil
    ) async throws {
        var variables = [
            "PATH": WebserviceLaunch.defaultPath, "LANG": "C.UTF-8", "HOME": home, "TOOL_NAME": record.tool.rawValue,
            "KILN_TOOL": record.tool.rawValue, "KILN_BUILD": record.id, "GIT_TERMINAL_PROMPT": "0",
            "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
        ]
        if let user {
            variables["USER"] = user.name
            variables["LOGNAME"] = user.name
        }
        variables.merge(environment) { _, given in given }
        let limited = limitingFileSize(program, arguments)
        let spec = ProcessSpec(
            executable: limited.program, arguments: limited.arguments, environment: variables, workingDirectory: directory, user: user,
            standardOutput: .file(work, output ?? logPath), standardError: .file(work, logPath), stopGracePeriod: .seconds(5),
            limits: limits)
        let leader = StepLeader()
        // The program, and beside it the watch of the build's folders: the first to end decides.
        let (status, stop) = await withTaskGroup(of: StepEnd.self) { group in
            group.addTask { .exited(await ProcessRunner.run(spec) { pid in leader.set(pid) }) }
            group.addTask { .watched(await self.watchDisk()) }
            var status = ExitStatus.unknown
            var stop: Stop?
            while let end = await group.next() {
                switch end {
                case .exited(let ended):
                    status = ended
                case .watched(nil):
                    continue
                case .watched(let why?):
                    stop = why
                    // Killed at once, with no grace as a cancel gives: what it would write meanwhile
                    // is what the quota is for. The cancel then stops what is left as a cancel does.
                    leader.killGroup()
                }
                group.cancelAll()
            }
            return (status, stop)
        }
        // Nothing a step started outlives it.
        leader.killGroup()
        if Task.isCancelled { throw Stop.cancelled }
        // Measured again as the step ends, however it ended: a step quicker than the watch, or one
        // that failed for want of disk, is told of the quota.
        if let stop = stop ?? diskCheck() { throw stop }
        guard status == .exited(code: 0) else {
            let name = (program as NSString).lastPathComponent
            let shown = display ?? ([name] + arguments.prefix(4)).joined(separator: " ") + (arguments.count > 4 ? " …" : "")
            if status == .signaled(signal: SIGXFSZ) {
                throw Stop.failed(
                    "`\(shown)` wrote a file larger than the build's disk quota (\(BuildDiskUse.shown(configuration.quota.diskBytes))) and was stopped")
            }
            throw Stop.failed("`\(shown)` \(status)")
        }
    }

    /// How a step's program or the watch of its disk ended.
    private enum StepEnd: Sendable {
        case exited(ExitStatus)
        /// Why the build must stop; nil when the watch was cancelled.
        case watched(Stop?)
    }

    /// A line of the platform's in the build's log, with the time into the build (`[ 12.3s]`).
    func log(_ line: String) {
        let elapsed = (ContinuousClock.now - began).components
        let tenths = elapsed.seconds * 10 + elapsed.attoseconds / 100_000_000_000_000_000
        let seconds = String(tenths / 10)
        let stamp = "[\(String(repeating: " ", count: max(0, 4 - seconds.count)))\(seconds).\(tenths % 10)s] "
        ProcessRunner.appendLine(stamp + line, to: .file(work, logPath))
    }
}

/// A build's record as it moves through its lifecycle, saved at every transition.
actor BuildProgress {
    private(set) var record: BuildRecord
    let store: KilnStore
    let logger: Logger

    enum Stamp { case started, ended }

    init(record: BuildRecord, store: KilnStore, logger: Logger) {
        self.record = record
        self.store = store
        self.logger = logger
    }

    var step: BuildStep? { record.lifecycle.step }

    func apply(_ event: BuildLifecycle.Event, stamp: Stamp? = nil, digest: String? = nil) async throws(KilnError) {
        record.lifecycle = try record.lifecycle.after(event)
        switch stamp {
        case .started?: record.startedAt = Date()
        case .ended?: record.endedAt = Date()
        case nil: break
        }
        if let digest { record.digest = digest }
        try await store.saveBuild(record)
        logger.info("build \(record.lifecycle.word)", metadata: ["build": "\(record.id)", "message": "\(record.lifecycle.message)"])
    }
}

/// The process group a step's program leads, once it runs.
final class StepLeader: Sendable {
    private let pid = Mutex<Int32?>(nil)

    func set(_ value: Int32) { pid.withLock { $0 = value } }

    func killGroup() {
        if let value = pid.withLock({ $0 }) { ProcessInspector.signalGroup(value, SIGKILL) }
    }
}

/// Whether a build's deadline passed (so its cancellation is a timeout).
final class TimeoutFlag: Sendable {
    private let state = Mutex(false)

    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

import Foundation
import KilnCore
import KilnFiles
import KilnRunner
import KilnStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Builds tools' images: one build a tool at a time, each a task that runs the build's steps
/// (`BuildRun`) as the tool, in its control group, within the tool's build quota (its folders
/// measured against the disk quota while each step runs), its output appended to the build's log. A failed, cancelled or timed-out build removes its partial
/// image and leaves the previous one as it was; a build the server's stop interrupted is
/// recorded as failed at the next start.
public actor BuildService: BuildControl {
    public struct Configuration: Sendable {
        public var images: ImageStore
        /// `DATA/builds`: each tool's build logs and dependency caches, in a folder of its own.
        public var workRoot: String
        /// Control groups' instance (the folder of homes, as for jobs and webservices).
        public var instance: String
        public var quota: BuildQuota
        public var toolchain: BuildToolchain
        /// Builds that run at once on this host (the others wait, pending): half its processors.
        public var concurrentBuilds = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        /// How often a running step's folders are measured against the disk quota: a build past
        /// it writes at most this long more before it is stopped.
        public var diskCheckInterval: Duration = .seconds(2)

        public init(images: ImageStore, workRoot: String, instance: String, quota: BuildQuota = .standard, toolchain: BuildToolchain) {
            self.images = images
            self.workRoot = workRoot
            self.instance = instance
            self.quota = quota
            self.toolchain = toolchain
        }
    }

    let configuration: Configuration
    let store: KilnStore
    let homeOf: @Sendable (ToolName) -> String
    let logger: Logger
    private var running: [Key: Task<Void, Never>] = [:]
    private let slots: BuildSlots

    struct Key: Hashable {
        var tool: ToolName
        var number: Int
    }

    public init(configuration: Configuration, store: KilnStore, homeOf: @escaping @Sendable (ToolName) -> String, logger: Logger) {
        self.configuration = configuration
        self.slots = BuildSlots(count: configuration.concurrentBuilds)
        self.store = store
        self.homeOf = homeOf
        self.logger = logger
    }

    /// At start: builds a stopped server left unended are failed (their processes died with it,
    /// or are killed now with their control group) and their partial images removed.
    public func recover() async throws(KilnError) {
        try PrivateDirectory.ensure(configuration.workRoot, mode: 0o711, owner: .process)
        for var build in try await store.unfinishedBuilds() {
            guard let tool = try await store.tool(named: build.tool) else { continue }
            let owner = FileOwner(tool.unixUser)
            await limits(of: build.tool).removeGroups()
            try? configuration.images.remove(tool: build.tool, owner: owner, name: build.parameters.imageName, tag: build.number)
            build.lifecycle = (try? build.lifecycle.after(.interrupted(reason: "the platform stopped while the build ran"))) ?? build.lifecycle
            build.endedAt = Date()
            try await store.saveBuild(build)
            logger.notice("build interrupted by a stop of the platform", metadata: ["build": "\(build.id)"])
        }
    }

    // MARK: BuildControl

    public func start(tool name: ToolName, parameters: BuildParameters) async throws(KilnError) -> BuildRecord {
        guard let tool = try await store.tool(named: name) else { throw Self.noTool(name) }
        let (record, dropped) = try await store.startBuild(
            of: name, parameters: parameters, at: Date(), keeping: configuration.quota.buildsKept)
        let owner = FileOwner(tool.unixUser)
        let work = try workFolder(of: name, owner: owner)
        for old in dropped { _ = work.removeFile(Self.logPath(old.number)) }
        let run = BuildRun(
            record: record, user: tool.unixUser, home: homeOf(name), work: work, configuration: configuration,
            limits: limits(of: name), store: store, logger: logger)
        let key = Key(tool: name, number: record.number)
        let deadline = configuration.quota.duration
        let slots = self.slots
        running[key] = Task {
            // The build's time counts from when it has a slot.
            if await slots.acquire() {
                await run.execute(deadline: deadline)
                await slots.release()
            } else {
                await run.cancelWhilePending()
            }
            self.finished(key)
        }
        return record
    }

    private func finished(_ key: Key) { running[key] = nil }

    public func builds(of tool: ToolName) async throws(KilnError) -> [BuildRecord] {
        try await store.builds(of: tool)
    }

    public func build(of tool: ToolName, number: Int) async throws(KilnError) -> BuildRecord {
        guard let build = try await store.build(of: tool, number: number) else { throw Self.noBuild(tool, number) }
        return build
    }

    public func cancel(tool: ToolName, number: Int) async throws(KilnError) -> BuildRecord {
        let build = try await build(of: tool, number: number)
        // Refused (a conflict naming its state) when it has ended.
        _ = try build.lifecycle.after(.cancelRequested)
        if let task = running[Key(tool: tool, number: number)] {
            task.cancel()
            await task.value
        }
        return try await self.build(of: tool, number: number)
    }

    public func delete(tool: ToolName, number: Int?) async throws(KilnError) -> [BuildRecord] {
        if let number { _ = try await build(of: tool, number: number) }
        let deleted = try await store.deleteBuilds(of: tool, number: number)
        if let owner = try await store.tool(named: tool).map({ FileOwner($0.unixUser) }), let work = try? workFolder(of: tool, owner: owner) {
            for build in deleted { _ = work.removeFile(Self.logPath(build.number)) }
        }
        return deleted
    }

    public func clean(tool: ToolName) async throws(KilnError) -> [ImageManifest] {
        guard let account = try await store.tool(named: tool) else { throw Self.noTool(tool) }
        let removed = try await store.deleteImages(of: tool)
        let owner = FileOwner(account.unixUser)
        for image in removed { try configuration.images.remove(tool: tool, owner: owner, name: image.name, tag: image.tag) }
        // The dependency cache too: it counts in the build's disk quota, and a tool whose cache
        // outgrew it builds again from an empty one. Not while a build of the tool uses it.
        if !running.keys.contains(where: { $0.tool == tool }) {
            let cache = BuildRun.cachePath.absolute(in: workPath(of: tool))
            try ImageTree(path: cache, builder: owner, sealedOwner: .process).remove()
        }
        return removed
    }

    public func images(of tool: ToolName) async throws(KilnError) -> [ImageManifest] {
        try await store.images(of: tool)
    }

    public func quota(of tool: ToolName) async throws(KilnError) -> BuildQuotaReport {
        let images = try await store.images(of: tool)
        let builds = try await store.builds(of: tool)
        return BuildQuotaReport(
            quota: BuildQuotaLimits(configuration.quota), images: images.count, imageBytes: images.reduce(0) { $0 + $1.sizeBytes },
            builds: builds.count)
    }

    public func log(tool: ToolName, number: Int) async throws(KilnError) -> LogFile {
        _ = try await build(of: tool, number: number)
        guard let account = try await store.tool(named: tool) else { throw Self.noTool(tool) }
        return LogFile(in: try workFolder(of: tool, owner: FileOwner(account.unixUser)), at: Self.logPath(number))
    }

    public func forget(_ tool: Tool) async throws(KilnError) {
        for (key, task) in running where key.tool == tool.name {
            task.cancel()
            await task.value
        }
        let owner = FileOwner(tool.unixUser)
        try configuration.images.removeAll(of: tool.name, owner: owner)
        try ImageTree(path: workPath(of: tool.name), builder: owner, sealedOwner: .process).remove()
    }

    // MARK: Support

    /// Where the tool's build folder is: `DATA/builds/TOOL`.
    func workPath(of tool: ToolName) -> String { configuration.workRoot + "/" + tool.rawValue }

    /// The tool's build folder, `DATA/builds/TOOL` (the tool's, 0700): logs and caches.
    func workFolder(of tool: ToolName, owner: FileOwner) throws(KilnError) -> ConfinedDirectory {
        try PrivateDirectory.ensure(configuration.workRoot, mode: 0o711, owner: .process)
        let path = workPath(of: tool)
        try PrivateDirectory.ensure(path, mode: 0o700, owner: owner)
        return ConfinedDirectory(path: path, owner: owner)
    }

    func limits(of tool: ToolName) -> ResourceLimits {
        ResourceLimits(
            memory: configuration.quota.memory, cpu: configuration.quota.cpu,
            unit: ControlGroupUnit(instance: configuration.instance, tool: tool, unit: "build"))
    }

    static func logPath(_ number: Int) -> HomePath { HomePath(platform: "logs", "\(number).log") }

    static func noTool(_ tool: ToolName) -> KilnError {
        KilnError(.notFound, "no tool named '\(tool)'", context: ["tool": tool.rawValue])
    }

    static func noBuild(_ tool: ToolName, _ number: Int) -> KilnError {
        KilnError(.notFound, "the tool '\(tool)' has no build \(BuildRecord.id(tool: tool, number: number))", context: ["build": String(number)])
    }
}

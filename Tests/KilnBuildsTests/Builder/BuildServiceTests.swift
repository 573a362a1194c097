import Foundation
import KilnBuilds
import KilnCore
import KilnFiles
import KilnStore
import KilnTesting
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The build service in process, with a real store and real processes (git, the tool's own
/// programs, as `nobody` when the tests run as root): a build's states as they are recorded, a
/// cancel, a timeout, and the recovery of builds a stopped server left.
@Suite(.serialized) struct BuildServiceTests {
    let folder: String
    let store: KilnStore
    let tool: ToolName
    let home: String
    let service: BuildService

    init() async throws {
        folder = try makeTemporaryDirectory(prefix: "kb")
        chmod(folder, 0o711)
        store = try KilnStore(path: folder + "/store.sqlite")
        tool = try ToolName("bot")
        try await store.createTool(
            Tool(name: tool, maintainers: [], unixUser: TestToolUser.identity, createdAt: 0), tokenHash: UUID().uuidString)
        home = folder + "/home"
        guard mkdir(home, 0o750) == 0 else { throw TestFailure("cannot create \(home)") }
        TestToolUser.give(home)
        let home = self.home
        service = BuildService(
            configuration: .init(
                images: ImageStore(root: folder + "/images"), workRoot: folder + "/builds", instance: folder,
                quota: BuildQuota(
                    duration: .seconds(20), memory: MemorySize(bytes: 512 << 20), cpu: CPUQuantity(millicores: 1000), imageBytes: 1 << 20,
                    diskBytes: 64 << 20, imagesKept: 2, buildsKept: 10),
                toolchain: .host()),
            store: store, homeOf: { _ in home }, logger: Logger(label: "test"))
    }

    /// A repository in the tool's home with `files`, committed by the tool.
    func repository(_ files: [String: String]) throws -> String {
        for (path, contents) in files { try writeAsTool(contents, to: "repo/" + path, inHome: home) }
        let user = TestToolUser.identity?.name
        for arguments in [["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.email=t@k", "-c", "user.name=t", "commit", "-q", "-m", "c"]] {
            let result = try runCommand("/usr/bin/git", ["-C", home + "/repo"] + arguments, environment: ["HOME": home], asUser: user)
            guard result.status == 0 else { throw TestFailure("git: \(result)") }
        }
        return home + "/repo"
    }

    func parameters(_ source: String) throws -> BuildParameters {
        try BuildParameters(sourceURL: source, ref: nil, imageName: "site", environment: [:], useLatestVersions: false)
    }

    /// Waits (asynchronously) until build `number` has ended.
    func ended(_ number: Int) async throws -> BuildRecord {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let build = try await service.build(of: tool, number: number)
            if build.lifecycle.hasEnded { return build }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("build \(number) did not end")
    }

    @Test func aStaticSiteIsBuiltSealedAndFoundAsLatest() async throws {
        let source = try repository(["index.html": "<p>hi</p>\n", "Procfile": "web: python3 -m http.server $PORT\n"])
        let started = try await service.start(tool: tool, parameters: try parameters(source))
        #expect(started.number == 1 && started.lifecycle == .pending)
        let build = try await ended(1)
        #expect(build.lifecycle == .succeeded(tag: 1), "\(build.lifecycle)")
        #expect(build.digest?.hasPrefix("sha256:") == true && build.startedAt != nil && build.endedAt != nil)
        let images = ImageStore(root: folder + "/images")
        let manifest = try images.manifest(of: BuiltImageName(parsing: "tool-bot/site:latest"), for: tool)
        #expect(manifest.tag == 1 && manifest.launch.language == .static && manifest.commit?.count == 40)
        #expect(manifest.launch.processes == [Procfile.Process(type: "web", command: "python3 -m http.server $PORT")])
        #expect(!FileManager.default.fileExists(atPath: folder + "/images/bot/site/1/app/.git"))
        // Another tool asking for it is told it does not exist.
        #expect(throws: KilnError.self) { try images.manifest(of: BuiltImageName(parsing: "tool-bot/site:latest"), for: ToolName("other")) }
        let log = try await service.log(tool: tool, number: 1).lastLines(100).joined(separator: "\n")
        #expect(log.contains("==> detected static: static files") && log.contains("==> built tool-bot/site:latest"), "\(log)")

        // Past the quota of two images, the oldest goes, files and all.
        for number in 2...3 {
            _ = try await service.start(tool: tool, parameters: try parameters(source))
            #expect(try await ended(number).lifecycle == .succeeded(tag: number))
        }
        #expect(try await service.images(of: tool).map(\.tag) == [3, 2])
        #expect(!FileManager.default.fileExists(atPath: folder + "/images/bot/site/1"))
    }

    @Test func aCancelledBuildIsRecordedAndLeavesNothing() async throws {
        let source = try repository(["package.json": #"{"name": "slow", "version": "1.0.0", "scripts": {"build": "sleep 60"}}"#])
        _ = try await service.start(tool: tool, parameters: try parameters(source))
        let deadline = ContinuousClock.now + .seconds(30)
        while try await service.build(of: tool, number: 1).lifecycle != .running(step: .compile), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let cancelled = try await service.cancel(tool: tool, number: 1)
        #expect(cancelled.lifecycle == .cancelled(step: .compile), "\(cancelled.lifecycle)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/images/bot/site/1"))
        let again = await #expect(throws: KilnError.self) { try await service.cancel(tool: self.tool, number: 1) }
        #expect(again?.code == .conflict)
    }

    @Test func aBuildPastItsTimeIsStoppedAsTimedOut() async throws {
        let short = BuildService(
            configuration: .init(
                images: ImageStore(root: folder + "/images"), workRoot: folder + "/builds", instance: folder,
                quota: BuildQuota(
                    duration: .seconds(2), memory: MemorySize(bytes: 512 << 20), cpu: CPUQuantity(millicores: 1000), imageBytes: 1 << 20,
                    diskBytes: 64 << 20, imagesKept: 2, buildsKept: 10),
                toolchain: .host()),
            store: store, homeOf: { [home] _ in home }, logger: Logger(label: "test"))
        let source = try repository(["package.json": #"{"name": "slow", "version": "1.0.0", "scripts": {"build": "sleep 60"}}"#])
        _ = try await short.start(tool: tool, parameters: try parameters(source))
        let deadline = ContinuousClock.now + .seconds(30)
        var build = try await short.build(of: tool, number: 1)
        while !build.lifecycle.hasEnded, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            build = try await short.build(of: tool, number: 1)
        }
        #expect(build.lifecycle == .timedOut(step: .compile), "\(build.lifecycle)")
    }

    /// A service whose builds may hold 2 MiB on disk, measured every tenth of a second.
    func smallDisk() -> BuildService {
        var configuration = BuildService.Configuration(
            images: ImageStore(root: folder + "/images"), workRoot: folder + "/builds", instance: folder,
            quota: BuildQuota(
                duration: .seconds(40), memory: MemorySize(bytes: 512 << 20), cpu: CPUQuantity(millicores: 1000), imageBytes: 1 << 20,
                diskBytes: 2 << 20, imagesKept: 2, buildsKept: 10),
            toolchain: .host())
        configuration.diskCheckInterval = .milliseconds(100)
        return BuildService(configuration: configuration, store: store, homeOf: { [home] _ in home }, logger: Logger(label: "test"))
    }

    /// Processes whose command line holds `marker`.
    func processes(holding marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
            guard let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: line, as: UTF8.self).contains(marker)
        }
    }

    @Test func aStepWritingPastTheDiskQuotaIsStoppedAndThePreviousImageStays() async throws {
        let small = smallDisk()
        let source = try repository(["index.html": "<p>hi</p>\n", "Procfile": "web: python3 -m http.server $PORT\n"])
        _ = try await small.start(tool: tool, parameters: try parameters(source))
        #expect(try await ended(1).lifecycle == .succeeded(tag: 1))

        // Ten files of a MiB (each under the file size limit), then it waits: only the watch of
        // its folders (or the build's 40 s) ends it.
        _ = try repository([
            "package.json": #"{"name": "big", "version": "1.0.0", "scripts": {"build": "node -e \"const fs = require('fs'); for (let i = 0; i < 10; i++) fs.writeFileSync('big' + i, Buffer.alloc(1 << 20, 7)); setTimeout(() => {}, 60000)\" kiln-disk-marker"}}"#
        ])
        let began = ContinuousClock.now
        _ = try await small.start(tool: tool, parameters: try parameters(source))
        let build = try await ended(2)
        guard case .failed(step: .compile, let reason) = build.lifecycle else {
            Issue.record("\(build.lifecycle)")
            return
        }
        #expect(ContinuousClock.now - began < .seconds(30))
        #expect(reason.hasPrefix("it used more disk than the build's quota (2 MiB): the build's folders held "), "\(reason)")
        #expect(build.lifecycle.message.hasPrefix("step 'compile' failed: it used more disk than the build's quota (2 MiB)"))
        let log = try await small.log(tool: tool, number: 2).lastLines(100).joined(separator: "\n")
        #expect(log.contains("==> failed: step 'compile' used more disk than the build's quota (2 MiB): the build's folders held "), "\(log)")
        // Its processes are gone, its folder removed; the previous image is as it was.
        #expect(processes(holding: "kiln-disk-marker").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder + "/images/bot/site/2"))
        #expect(try await small.images(of: tool).map(\.tag) == [1])
        let manifest = try ImageStore(root: folder + "/images").manifest(of: BuiltImageName(parsing: "tool-bot/site:latest"), for: tool)
        #expect(manifest.tag == 1)
        #expect(FileManager.default.fileExists(atPath: folder + "/images/bot/site/1/app/index.html"))
    }

    @Test func noFileAStepWritesGrowsPastTheDiskQuotaEvenOutsideItsFolders() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else { return }
        let small = smallDisk()
        // Written in the tool's home, which the watch does not measure: only RLIMIT_FSIZE bounds it.
        let source = try repository([
            "package.json": #"{"name": "big", "version": "1.0.0", "scripts": {"build": "node -e \"require('fs').writeFileSync(process.env.HOME + '/big', Buffer.alloc(10 << 20, 7))\""}}"#
        ])
        _ = try await small.start(tool: tool, parameters: try parameters(source))
        let build = try await ended(1)
        #expect(build.lifecycle.step == .compile && build.lifecycle.word == "BUILD_FAILURE", "\(build.lifecycle)")
        let size = try FileManager.default.attributesOfItem(atPath: home + "/big")[.size] as? Int
        #expect(size == 2 << 20)
    }

    @Test func buildsAStoppedServerLeftAreFailedAndTheirFoldersRemoved() async throws {
        let (record, _) = try await store.startBuild(of: tool, parameters: try parameters("/nowhere"), at: Date(), keeping: 10)
        var running = record
        running.lifecycle = .running(step: .dependencies)
        try await store.saveBuild(running)
        let partial = try ImageStore(root: folder + "/images").prepare(
            tool: tool, owner: FileOwner(TestToolUser.identity), name: "site", tag: record.number)
        try writeAsTool("half\n", to: "half.txt", inHome: partial)
        try await service.recover()
        let recovered = try await service.build(of: tool, number: record.number)
        #expect(recovered.lifecycle == .failed(step: .dependencies, reason: "the platform stopped while the build ran"))
        #expect(!FileManager.default.fileExists(atPath: partial))
    }

    @Test func buildsPastTheHostsSlotsWaitAndACancelledOneNeverRuns() async throws {
        var configuration = BuildService.Configuration(
            images: ImageStore(root: folder + "/images"), workRoot: folder + "/builds", instance: folder, toolchain: .host())
        configuration.concurrentBuilds = 1
        // Another tool (its build never runs: no user of its own is needed).
        let other = try ToolName("other")
        try await store.createTool(Tool(name: other, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: UUID().uuidString)
        let one = BuildService(configuration: configuration, store: store, homeOf: { [home] _ in home }, logger: Logger(label: "test"))
        let source = try repository(["package.json": #"{"name": "slow", "version": "1.0.0", "scripts": {"build": "sleep 60"}}"#])
        _ = try await one.start(tool: tool, parameters: try parameters(source))
        let waiting = try await one.start(tool: other, parameters: try parameters(source))
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await one.build(of: other, number: waiting.number).lifecycle == .pending)
        let cancelled = try await one.cancel(tool: other, number: waiting.number)
        #expect(cancelled.lifecycle == .cancelled(step: nil), "\(cancelled.lifecycle)")
        #expect(try await one.cancel(tool: tool, number: 1).lifecycle == .cancelled(step: .compile))
    }
}


import Foundation
import KilnCore
import Testing

@testable import KilnStore

@Suite struct BuildStoreTests {
    func makeStore(tools names: [String] = ["bot"]) async throws -> (KilnStore, [ToolName]) {
        let path = NSTemporaryDirectory() + "/kiln-builds-\(UUID().uuidString).sqlite"
        let store = try KilnStore(path: path)
        var tools: [ToolName] = []
        for name in names {
            let tool = try ToolName(name)
            try await store.createTool(Tool(name: tool, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: UUID().uuidString)
            tools.append(tool)
        }
        return (store, tools)
    }

    func parameters(image: String = "web") throws -> BuildParameters {
        try BuildParameters(sourceURL: "https://example.org/bot.git", ref: nil, imageName: image, environment: [:], useLatestVersions: false)
    }

    func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    /// Starts a build and ends it as `lifecycle` (a success tagged with its number by default).
    @discardableResult
    func build(
        _ store: KilnStore, _ tool: ToolName, ending lifecycle: BuildLifecycle? = nil, keeping kept: Int = 50
    ) async throws -> (record: BuildRecord, dropped: [BuildRecord]) {
        let started = try await store.startBuild(of: tool, parameters: try parameters(), at: date(1), keeping: kept)
        var record = started.record
        record.lifecycle = lifecycle ?? .succeeded(tag: record.number)
        record.endedAt = date(2)
        try await store.saveBuild(record)
        return (record, started.dropped)
    }

    func manifest(_ tool: ToolName, _ name: String, _ tag: Int) -> ImageManifest {
        ImageManifest(
            tool: tool, name: name, tag: tag, buildID: BuildRecord.id(tool: tool, number: tag), sourceURL: "https://example.org/bot.git",
            ref: nil, commit: "c0ffee", createdAt: date(Double(tag)), digest: "sha256:\(tag)", sizeBytes: Int64(tag) * 100,
            launch: ImageLaunch(language: .python, runtimeProgram: "/usr/bin/python3", pathEntries: [], environment: [:], processes: [], workingDirectory: "/app"))
    }

    func image(_ tool: ToolName, _ name: String, _ tag: BuiltImageName.Tag = .latest) throws -> BuiltImageName {
        try BuiltImageName(tool: tool, name: name, tag: tag)
    }

    // MARK: Builds

    @Test func theMigrationAddsTheBuildTablesToAnOlderStore() async throws {
        let path = NSTemporaryDirectory() + "/kiln-builds-\(UUID().uuidString).sqlite"
        let tool = try ToolName("old")
        do {
            let old = try KilnStore(path: path, migratingUpTo: "v7-tool-quotas")
            try await old.createTool(Tool(name: tool, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: "t")
        }
        let store = try KilnStore(path: path)
        #expect(try await store.appliedMigrations().last == "v8-builds")
        #expect(try await store.builds(of: tool).isEmpty)
        #expect(try await store.startBuild(of: tool, parameters: try parameters(), at: date(1), keeping: 5).record.number == 1)
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test func buildsAreNumberedFromOneAndReadBack() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        let (record, dropped) = try await store.startBuild(of: bot, parameters: try parameters(), at: date(10), keeping: 5)
        #expect(dropped.isEmpty)
        #expect(record.number == 1)
        #expect(record.id == "bot-build-1")
        #expect(record.lifecycle == .pending)
        #expect(record.createdAt == date(10))
        #expect(try await store.build(of: bot, number: 1) == record)
        #expect(try await store.build(of: bot, number: 2) == nil)
        var ended = record
        ended.lifecycle = .succeeded(tag: 1)
        ended.digest = "sha256:ab"
        try await store.saveBuild(ended)
        #expect(try await store.build(of: bot, number: 1) == ended)
        #expect(try await build(store, bot).record.number == 2)
        #expect(try await build(store, bot).record.number == 3)
        #expect(try await store.builds(of: bot).map(\.number) == [3, 2, 1])
    }

    @Test func theNextNumberIsPastEveryBuildAndEveryImage() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        // An image kept from a build whose record is gone: its tag is not reused.
        _ = try await store.addImage(manifest(bot, "web", 7), keeping: 5)
        #expect(try await build(store, bot).record.number == 8)
        // Images of another name count too.
        _ = try await store.addImage(manifest(bot, "other", 20), keeping: 5)
        #expect(try await build(store, bot).record.number == 21)
        // Records past the images count as well.
        #expect(try await build(store, bot).record.number == 22)
        // Once records go, the images still hold their numbers.
        _ = try await store.deleteBuilds(of: bot)
        #expect(try await build(store, bot).record.number == 21)
    }

    @Test func aToolHasOneUnfinishedBuildAtATime() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        var record = try await store.startBuild(of: bot, parameters: try parameters(), at: date(1), keeping: 5).record
        let error = await #expect(throws: KilnError.self) {
            try await store.startBuild(of: bot, parameters: try self.parameters(), at: date(2), keeping: 5)
        }
        #expect(error?.code == .conflict)
        #expect(error?.context["build"] == "bot-build-1")
        #expect(error?.message.contains("BUILD_PENDING") == true)
        // Still refused while it runs; allowed once it has ended, however it ended.
        record.lifecycle = .running(step: .dependencies)
        try await store.saveBuild(record)
        let running = await #expect(throws: KilnError.self) {
            try await store.startBuild(of: bot, parameters: try self.parameters(), at: date(2), keeping: 5)
        }
        #expect(running?.message.contains("BUILD_RUNNING") == true)
        record.lifecycle = .cancelled(step: .dependencies)
        try await store.saveBuild(record)
        #expect(try await store.startBuild(of: bot, parameters: try parameters(), at: date(3), keeping: 5).record.number == 2)
        #expect(try await store.builds(of: bot).count == 2)
    }

    @Test func buildsStartedTogetherLeaveExactlyOneUnderWay() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        let parameters = try parameters()
        let started = await withTaskGroup(of: Int?.self) { group in
            for _ in 0..<10 {
                group.addTask { try? await store.startBuild(of: bot, parameters: parameters, at: Date(timeIntervalSince1970: 1), keeping: 5).record.number }
            }
            return await group.reduce(into: [Int]()) { numbers, number in number.map { numbers.append($0) } }
        }
        #expect(started == [1])
        #expect(try await store.unfinishedBuilds().map(\.id) == ["bot-build-1"])
    }

    @Test func aRecordIsReadBackWithEveryField() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        let parameters = try BuildParameters(
            sourceURL: "file:///data/project/bot/src", ref: "release/1.2", imageName: "api", environment: ["DEBUG": "1", "N": "é\n"],
            useLatestVersions: true)
        var record = try await store.startBuild(of: bot, parameters: parameters, at: Date(timeIntervalSince1970: 1_767_225_600.123456), keeping: 5).record
        record.startedAt = Date(timeIntervalSince1970: 1_767_225_601.987654)
        record.endedAt = Date(timeIntervalSince1970: 1_767_225_999.5)
        record.lifecycle = .failed(step: .dependencies, reason: "pip: \"no matching distribution\"\nline 2")
        record.digest = "sha256:" + String(repeating: "ab", count: 32)
        try await store.saveBuild(record)
        #expect(try await store.build(of: bot, number: record.number) == record)
        var launch = manifest(bot, "api", 1)
        launch.launch = ImageLaunch(
            language: .node, runtimeProgram: "/usr/bin/node", pathEntries: ["/a/node_modules/.bin"], environment: ["NODE_ENV": "production"],
            processes: [Procfile.Process(type: "web", command: "npm start")], workingDirectory: "/a")
        launch.ref = "release/1.2"
        launch.createdAt = Date(timeIntervalSince1970: 1_767_225_600.25)
        _ = try await store.addImage(launch, keeping: 5)
        #expect(try await store.image(image(bot, "api", .number(1))) == launch)
    }

    @Test func theOldestEndedRecordsGoPastTheKeptNumber() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        for expected in 1...3 { #expect(try await build(store, bot, keeping: 3).dropped.isEmpty, "build \(expected)") }
        let fourth = try await build(store, bot, keeping: 3)
        #expect(fourth.dropped.map(\.number) == [1])
        #expect(try await store.builds(of: bot).map(\.number) == [4, 3, 2])
        // A smaller number kept drops several, newest first.
        let fifth = try await build(store, bot, keeping: 1)
        #expect(fifth.dropped.map(\.number) == [4, 3, 2])
        #expect(try await store.builds(of: bot).map(\.number) == [5])
        // Kept 0 is kept 1: the build being started is never dropped.
        let sixth = try await store.startBuild(of: bot, parameters: try parameters(), at: date(3), keeping: 0)
        #expect(sixth.dropped.map(\.number) == [5])
        #expect(try await store.builds(of: bot).map(\.number) == [6])
    }

    @Test func savingABuildSetsWhetherItHasEnded() async throws {
        let (store, tools) = try await makeStore(tools: ["bot", "app"])
        let (bot, app) = (tools[0], tools[1])
        var one = try await store.startBuild(of: bot, parameters: try parameters(), at: date(1), keeping: 5).record
        let two = try await store.startBuild(of: app, parameters: try parameters(), at: date(1), keeping: 5).record
        #expect(try await store.unfinishedBuilds().map(\.id) == ["app-build-1", "bot-build-1"])
        one.lifecycle = .running(step: .clone)
        one.startedAt = date(5)
        try await store.saveBuild(one)
        #expect(try await store.unfinishedBuilds() == [two, one])
        for ending in [BuildLifecycle.failed(step: .clone, reason: "no repo"), .timedOut(step: .clone), .succeeded(tag: 1)] {
            one.lifecycle = ending
            try await store.saveBuild(one)
            #expect(try await store.unfinishedBuilds() == [two])
            #expect(try await store.build(of: bot, number: 1)?.lifecycle == ending)
        }
        // Saving a record the store does not have changes nothing.
        var stranger = one
        stranger.number = 99
        try await store.saveBuild(stranger)
        #expect(try await store.build(of: bot, number: 99) == nil)
    }

    @Test func anUnfinishedBuildIsNotDeleted() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        try await build(store, bot)
        try await build(store, bot, ending: .failed(step: .compile, reason: "x"))
        let open = try await store.startBuild(of: bot, parameters: try parameters(), at: date(1), keeping: 5).record
        let error = await #expect(throws: KilnError.self) { try await store.deleteBuilds(of: bot, number: open.number) }
        #expect(error?.code == .conflict)
        #expect(error?.context["build"] == "bot-build-3")
        #expect(try await store.builds(of: bot).count == 3)
        // All of them: the ended ones go, the unfinished one stays.
        #expect(try await store.deleteBuilds(of: bot).map(\.number).sorted() == [1, 2])
        #expect(try await store.builds(of: bot) == [open])
        #expect(try await store.deleteBuilds(of: bot).isEmpty)
    }

    @Test func oneEndedBuildIsDeletedByNumber() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        let first = try await build(store, bot).record
        try await build(store, bot)
        #expect(try await store.deleteBuilds(of: bot, number: 1) == [first])
        #expect(try await store.builds(of: bot).map(\.number) == [2])
        #expect(try await store.deleteBuilds(of: bot, number: 1).isEmpty)
        #expect(try await store.deleteBuilds(of: bot, number: 42).isEmpty)
    }

    @Test func aBuildOfAToolThatDoesNotExistIsRefused() async throws {
        let (store, _) = try await makeStore()
        await #expect(throws: KilnError.self) {
            try await store.startBuild(of: try ToolName("ghost"), parameters: try self.parameters(), at: self.date(1), keeping: 5)
        }
        await #expect(throws: KilnError.self) { try await store.addImage(self.manifest(try ToolName("ghost"), "web", 1), keeping: 5) }
    }

    // MARK: Images

    @Test func imagesAreKeptNPerNameAndTheDroppedOnesReturned() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        #expect(try await store.addImage(manifest(bot, "web", 1), keeping: 2).isEmpty)
        #expect(try await store.addImage(manifest(bot, "web", 2), keeping: 2).isEmpty)
        #expect(try await store.addImage(manifest(bot, "api", 3), keeping: 2).isEmpty)
        #expect(try await store.addImage(manifest(bot, "web", 4), keeping: 2) == [manifest(bot, "web", 1)])
        #expect(try await store.images(of: bot).map(\.reference) == ["tool-bot/api:3", "tool-bot/web:4", "tool-bot/web:2"])
        // Fewer kept drops the oldest of them, newest first; 0 keeps the new one.
        #expect(try await store.addImage(manifest(bot, "web", 5), keeping: 1).map(\.tag) == [4, 2])
        #expect(try await store.addImage(manifest(bot, "api", 6), keeping: 0).map(\.tag) == [3])
        #expect(try await store.images(of: bot).map(\.reference) == ["tool-bot/api:6", "tool-bot/web:5"])
    }

    @Test func anImageTagIsStoredOnce() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        _ = try await store.addImage(manifest(bot, "web", 1), keeping: 5)
        let error = await #expect(throws: KilnError.self) { try await store.addImage(self.manifest(bot, "web", 1), keeping: 5) }
        #expect(error?.code == .conflict)
        #expect(try await store.images(of: bot).count == 1)
    }

    @Test func latestIsTheHighestTagAndANumberIsThatTag() async throws {
        let (store, tools) = try await makeStore()
        let bot = tools[0]
        #expect(try await store.image(image(bot, "web")) == nil)
        for tag in [3, 9, 5] { _ = try await store.addImage(manifest(bot, "web", tag), keeping: 5) }
        _ = try await store.addImage(manifest(bot, "api", 12), keeping: 5)
        #expect(try await store.image(image(bot, "web")) == manifest(bot, "web", 9))
        #expect(try await store.image(image(bot, "web", .number(5)))?.digest == "sha256:5")
        #expect(try await store.image(image(bot, "web", .number(12))) == nil)
        #expect(try await store.image(image(bot, "api")) == manifest(bot, "api", 12))
        #expect(try await store.image(image(bot, "nope")) == nil)
        let parsed = try BuiltImageName(parsing: "tool-bot/web:3")
        #expect(try await store.image(parsed)?.reference == "tool-bot/web:3")
    }

    @Test func aToolsImagesAreDeletedAndReturned() async throws {
        let (store, tools) = try await makeStore(tools: ["bot", "app"])
        let (bot, app) = (tools[0], tools[1])
        for tag in [1, 2] { _ = try await store.addImage(manifest(bot, "web", tag), keeping: 5) }
        _ = try await store.addImage(manifest(app, "web", 1), keeping: 5)
        #expect(try await store.deleteImages(of: bot).map(\.tag).sorted() == [1, 2])
        #expect(try await store.images(of: bot).isEmpty)
        #expect(try await store.image(image(bot, "web")) == nil)
        #expect(try await store.images(of: app) == [manifest(app, "web", 1)])
        #expect(try await store.deleteImages(of: bot).isEmpty)
    }

    // MARK: Tools apart

    @Test func oneToolsBuildsAndImagesAreNeverAnothers() async throws {
        let (store, tools) = try await makeStore(tools: ["bot", "app"])
        let (bot, app) = (tools[0], tools[1])
        try await build(store, bot)
        try await build(store, bot)
        _ = try await store.addImage(manifest(bot, "web", 2), keeping: 5)
        // The other tool numbers from 1, builds beside it, and sees nothing of bot's.
        let open = try await store.startBuild(of: app, parameters: try parameters(), at: date(1), keeping: 1).record
        #expect(open.number == 1)
        #expect(try await store.builds(of: app) == [open])
        #expect(try await store.build(of: app, number: 2) == nil)
        #expect(try await store.images(of: app).isEmpty)
        #expect(try await store.image(image(app, "web")) == nil)
        #expect(try await store.image(image(app, "web", .number(2))) == nil)
        // Its keeping drops none of bot's; its deletions touch none of bot's.
        _ = try await store.addImage(manifest(app, "web", 1), keeping: 1)
        _ = try await store.addImage(manifest(app, "web", 7), keeping: 1)
        #expect(try await store.images(of: bot) == [manifest(bot, "web", 2)])
        await #expect(throws: KilnError.self) { try await store.deleteBuilds(of: app, number: 1) }
        #expect(try await store.deleteBuilds(of: app, number: 2).isEmpty)
        #expect(try await store.deleteBuilds(of: app).isEmpty)
        _ = try await store.deleteImages(of: app)
        #expect(try await store.builds(of: bot).map(\.number) == [2, 1])
        #expect(try await store.images(of: bot).count == 1)
        // bot's next build is past its own, not app's.
        #expect(try await build(store, bot).record.number == 3)
    }

    @Test func deletingAToolDeletesItsBuildsAndImages() async throws {
        let (store, tools) = try await makeStore(tools: ["bot", "app"])
        let (bot, app) = (tools[0], tools[1])
        try await build(store, bot)
        _ = try await store.addImage(manifest(bot, "web", 1), keeping: 5)
        try await build(store, app)
        try await store.deleteTool(named: bot)
        #expect(try await store.builds(of: bot).isEmpty)
        #expect(try await store.images(of: bot).isEmpty)
        #expect(try await store.builds(of: app).count == 1)
        // A tool made again under the name starts afresh.
        try await store.createTool(Tool(name: bot, maintainers: [], unixUser: nil, createdAt: 0), tokenHash: UUID().uuidString)
        #expect(try await build(store, bot).record.number == 1)
    }
}

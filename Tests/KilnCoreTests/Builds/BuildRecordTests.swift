import Foundation
import KilnCore
import Testing

@Suite struct BuildRecordTests {
    let bot = try! ToolName("bot")

    func parameters(
        source: String = "https://gitlab.wikimedia.org/toolforge-repos/bot", ref: String? = nil, image: String = "bot",
        environment: [String: String] = [:], latest: Bool = false
    ) throws(KilnError) -> BuildParameters {
        try BuildParameters(sourceURL: source, ref: ref, imageName: image, environment: environment, useLatestVersions: latest)
    }

    // MARK: Ids and numbers

    @Test func aRecordStartsPendingWithItsIdAndImage() throws {
        let record = BuildRecord(tool: bot, number: 12, parameters: try parameters(image: "web"), createdAt: Date(timeIntervalSince1970: 5))
        #expect(record.id == "bot-build-12")
        #expect(BuildRecord.id(tool: bot, number: 1) == "bot-build-1")
        #expect(record.lifecycle == .pending)
        #expect(record.startedAt == nil && record.endedAt == nil && record.digest == nil)
        #expect(record.image == "tool-bot/web:latest")
        #expect(try JSONDecoder().decode(BuildRecord.self, from: JSONEncoder().encode(record)) == record)
    }

    @Test(arguments: [
        ("bot-build-1", 1), ("bot-build-42", 42), ("42", 42), (" bot-build-7\n", 7), ("007", 7), ("bot-build-007", 7),
        ("999999999", 999_999_999), ("bot-build-999999999", 999_999_999),
    ])
    func aBuildIdOrNumberOfTheToolsIsRead(_ id: String, _ number: Int) {
        #expect(BuildRecord.number(in: id, of: bot) == number)
    }

    @Test(arguments: [
        "", " ", "0", "bot-build-0", "-1", "bot-build--1", "+1", "bot-build-+1", "1.0", "1e3", "0x10", "bot-build-",
        "other-build-3", "bot2-build-3", "bo-build-3", "bot-x-build-3", "xbot-build-3", "bot-build-build-3", "BOT-build-3",
        "bot-Build-3", "bot-build-3x", "bot-build-3 4", "3 4", "bot-build-\u{0663}", "\u{0663}", "1000000000", "bot-build-1000000000",
        "99999999999999999999999999", "9223372036854775807", "9223372036854775808", "bot-build-1\u{0}", "1\u{0}",
        "../bot-build-1", "bot-build-1/..", "tool-bot/web:3",
    ])
    func anyOtherIdIsNoNumber(_ id: String) {
        #expect(BuildRecord.number(in: id, of: bot) == nil, "'\(id)'")
    }

    @Test func anotherToolsIdIsNotReadAsOnesOwn() throws {
        let other = try ToolName("bot-x")
        #expect(BuildRecord.number(in: "bot-x-build-3", of: other) == 3)
        #expect(BuildRecord.number(in: "bot-x-build-3", of: bot) == nil)
        #expect(BuildRecord.number(in: "bot-build-3", of: other) == nil)
    }

    // MARK: Parameters

    @Test func goodParametersAreKeptWithTheSourceTrimmed() throws {
        let parameters = try parameters(
            source: "  https://example.org/bot.git\n", ref: "refs/heads/feature/x-1", image: "web.v2",
            environment: ["DEBUG": "1", "_X": "", "A1": String(repeating: "v", count: BuildParameters.maximumValueLength)], latest: true)
        #expect(parameters.sourceURL == "https://example.org/bot.git")
        #expect(parameters.ref == "refs/heads/feature/x-1")
        #expect(parameters.imageName == "web.v2")
        #expect(parameters.environment["DEBUG"] == "1")
        #expect(parameters.useLatestVersions)
        for source in ["git@gitlab.wikimedia.org:toolforge-repos/bot.git", "file:///data/project/bot/src", "/data/project/bot/src", "src"] {
            #expect(try self.parameters(source: source).sourceURL == source)
        }
        for ref in ["main", "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "release/2026-12", "a.b", "é", "@"] {
            #expect(try self.parameters(ref: ref).ref == ref)
        }
    }

    @Test(arguments: [
        "--upload-pack=x", "-b", "-", "a..b", "..", "../../etc", "main~1", "main^", "HEAD:path", "a\\b", "a b", " main", "main ",
        "a\tb", "a\nb", "a\u{0}b", "a\u{7f}b", "a\u{1b}[31m", "", String(repeating: "a", count: 256),
    ])
    func aRefThatIsNotABranchTagOrCommitIsRefused(_ ref: String) {
        let error = #expect(throws: KilnError.self) { try self.parameters(ref: ref) }
        #expect(error?.code == .badRequest)
        #expect(error?.context["field"] == "ref")
    }

    @Test func theLongestRefIsAccepted() throws {
        let ref = String(repeating: "a", count: BuildParameters.maximumRefLength)
        #expect(try parameters(ref: ref).ref == ref)
    }

    @Test(arguments: [
        "", "   ", "-u", "--upload-pack=touch /tmp/x", "https://example.org/\u{0}", "https://example.org/a\nb", "a\u{7f}",
        String(repeating: "a", count: BuildParameters.maximumSourceLength + 1),
    ])
    func aSourceThatIsNotARepositoryIsRefused(_ source: String) {
        let error = #expect(throws: KilnError.self) { try self.parameters(source: source) }
        #expect(error?.context["field"] == "source_url")
    }

    @Test(arguments: ["", "Web", "-web", "a/b", "../x", "a b", String(repeating: "a", count: 64)])
    func aBadImageNameIsRefused(_ image: String) {
        let error = #expect(throws: KilnError.self) { try self.parameters(image: image) }
        #expect(error?.context["field"] == "image_name")
    }

    @Test(arguments: ["", "lower", "1A", "A-B", "A B", "A=B", "É", "HOME", "PORT", "TOOL_X", "KILN_SECRET", "A\u{0}"])
    func aBadVariableNameIsRefused(_ name: String) {
        let error = #expect(throws: KilnError.self) { try self.parameters(environment: [name: "v"]) }
        #expect(error?.context["field"] == "envvars")
        #expect(error?.message.contains("is not a variable name") == true)
    }

    @Test func aVariablesValueIsBounded() {
        for value in [String(repeating: "v", count: BuildParameters.maximumValueLength + 1), "a\u{0}b"] {
            let error = #expect(throws: KilnError.self) { try self.parameters(environment: ["A": value]) }
            #expect(error?.context["field"] == "envvars")
            #expect(error?.message.contains("the value of A") == true)
        }
    }

    @Test func tooManyVariablesAreRefused() throws {
        let most = Dictionary(uniqueKeysWithValues: (0..<BuildParameters.maximumEnvironment).map { ("V\($0)", "x") })
        #expect(try parameters(environment: most).environment.count == BuildParameters.maximumEnvironment)
        var tooMany = most
        tooMany["ONE_MORE"] = "x"
        let error = #expect(throws: KilnError.self) { try self.parameters(environment: tooMany) }
        #expect(error?.message.contains("more than \(BuildParameters.maximumEnvironment) variables") == true)
    }

    // MARK: Quota and manifest

    @Test func theStandardQuota() {
        let quota = BuildQuota.standard
        #expect(quota.duration == .seconds(1800))
        #expect(quota.memory.bytes == 2 << 30)
        #expect(quota.cpu.millicores == 1000)
        #expect(quota.imageBytes == 2 << 30)
        #expect(quota.diskBytes == 4 << 30)
        #expect(quota.imagesKept == 5)
        #expect(quota.buildsKept == 50)
    }

    @Test func theQuotaIsCodable() throws {
        let quota = BuildQuota(
            duration: .seconds(90), memory: MemorySize(bytes: 1 << 30), cpu: CPUQuantity(millicores: 500), imageBytes: 1 << 29, diskBytes: 1 << 30, imagesKept: 2,
            buildsKept: 3)
        #expect(try JSONDecoder().decode(BuildQuota.self, from: JSONEncoder().encode(quota)) == quota)
    }

    @Test func aManifestsReferenceIsItsNumberedTag() throws {
        let launch = ImageLaunch(language: .go, runtimeProgram: nil, pathEntries: [], environment: [:], processes: [], workingDirectory: "/a")
        let manifest = ImageManifest(
            tool: bot, name: "web", tag: 3, buildID: "bot-build-3", sourceURL: "src", ref: nil, commit: "abc", createdAt: Date(timeIntervalSince1970: 1),
            digest: "sha256:00", sizeBytes: 10, launch: launch)
        #expect(manifest.reference == "tool-bot/web:3")
        #expect(try BuiltImageName(parsing: manifest.reference) == BuiltImageName(tool: bot, name: "web", tag: .number(3)))
    }
}

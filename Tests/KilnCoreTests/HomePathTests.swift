import KilnCore
import Testing

@Suite struct HomePathTests {
    let tool = try! ToolName("bot")

    func resolve(_ given: String) throws -> String {
        try HomePath(resolving: given, home: "/srv/tools/bot", tool: tool, field: "f").relative
    }

    @Test func relativeAndTildePathsAreBelowTheHome() throws {
        #expect(try resolve("a.out") == "a.out")
        #expect(try resolve("logs//a.out") == "logs/a.out")
        #expect(try resolve("./logs/./a.out") == "logs/a.out")
        #expect(try resolve("~/logs/a.out") == "logs/a.out")
        #expect(try resolve("logs/old/../a.out") == "logs/a.out")
        #expect(try resolve("~") == "")
    }

    @Test func absolutePathsOnlyUnderTheHomeOrToolforgesNameForIt() throws {
        #expect(try resolve("/srv/tools/bot/a.out") == "a.out")
        #expect(try resolve("/data/project/bot/logs/a.out") == "logs/a.out")
        for outside in ["/srv/tools/botany/a.out", "/srv/tools/other/a", "/etc/passwd", "/data/project/other/a", "/srv/tools"] {
            #expect(throws: KilnError.self, "\(outside)") { try resolve(outside) }
        }
    }

    @Test func climbingOutIsRefused() throws {
        for given in ["..", "../x", "a/../../x", "/srv/tools/bot/../other/x", "~/../x"] {
            let error = #expect(throws: KilnError.self, "\(given)") { try resolve(given) }
            #expect(error?.context["field"] == "f")
        }
    }

    @Test func emptyHugeAndNULPathsAreRefused() {
        #expect(throws: KilnError.self) { try resolve("") }
        #expect(throws: KilnError.self) { try resolve(String(repeating: "a", count: 5000)) }
        #expect(throws: KilnError.self) { try resolve("a\u{0}b") }
    }

    @Test func platformNamesDropWhatCouldLeave() {
        #expect(HomePath(platform: "logs", "web.out").relative == "logs/web.out")
        #expect(HomePath(platform: "..", "a/b", ".", "c").relative == "c")
        #expect(HomePath(platform: "logs").appending("x").absolute(in: "/h") == "/h/logs/x")
    }
}

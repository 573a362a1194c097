import Foundation
import KilnCore
import Testing

@Suite struct BuiltImageNameTests {
    let bot = try! ToolName("bot")

    @Test func aFullNameIsReadWithItsTag() throws {
        let latest = try BuiltImageName(parsing: "tool-bot/web:latest")
        #expect(latest.tool == bot)
        #expect(latest.name == "web")
        #expect(latest.tag == .latest)
        let numbered = try BuiltImageName(parsing: "tool-bot/web:12")
        #expect(numbered.tag == .number(12))
        #expect(numbered.description == "tool-bot/web:12")
        #expect(numbered.repository == "tool-bot/web")
        // No tag is latest, as a registry reads it; spaces around are ignored.
        let untagged = try BuiltImageName(parsing: "  tool-bot/web \n")
        #expect(untagged.tag == .latest)
        #expect(untagged.description == "tool-bot/web:latest")
    }

    @Test func aToolNameWithHyphensAndAnImageNameWithDotsAndUnderscoresAreRead() throws {
        let name = try BuiltImageName(parsing: "tool-my-tool/my_app.v2-x:3")
        #expect(name.tool == (try ToolName("my-tool")))
        #expect(name.name == "my_app.v2-x")
        #expect(name.tag == .number(3))
    }

    @Test(arguments: [
        "", "bot/web", "tool-bot", "tool-bot:latest", "toolbot/web", "tools.bot/web", "tool-/web", "tool-Bot/web",
        "tool-bot/", "tool-bot/:latest", "tool-bot/web:", "tool-bot/web:0", "tool-bot/web:-1", "tool-bot/web:+1",
        "tool-bot/web:01x", "tool-bot/web:1.0", "tool-bot/web:LATEST", "tool-bot/web:latest:1", "tool-bot/web:1000000001",
        "tool-bot/web:99999999999", "tool-bot/web:99999999999999999999999", "tool-bot/web:\u{0661}", "tool-bot/Web",
        "tool-bot/-web", "tool-bot/web-", "tool-bot/.web", "tool-bot/a/b", "tool-bot/../x", "tool-bot/a b", "tool-bot/a\u{0}b",
        "tool-bot/é", "tool-bot/web@sha256:abc", "tool-../web", "tool-bot\u{0}/web",
    ])
    func aTextThatIsNotAToolsImageIsRefused(_ text: String) {
        let error = #expect(throws: KilnError.self) { try BuiltImageName(parsing: text) }
        #expect(error?.code == .badRequest)
        #expect(error?.context["field"] == "image")
        #expect(error?.message.contains("tool-TOOL/NAME:latest") == true)
    }

    @Test func theLargestTagIsAcceptedAndOnePastItRefused() throws {
        let largest = try BuiltImageName(parsing: "tool-bot/web:\(BuiltImageName.maximumTagNumber)")
        #expect(largest.tag == .number(BuiltImageName.maximumTagNumber))
        #expect(throws: KilnError.self) { try BuiltImageName(parsing: "tool-bot/web:\(BuiltImageName.maximumTagNumber + 1)") }
        // Leading zeros are one number.
        #expect(try BuiltImageName(parsing: "tool-bot/web:007").tag == .number(7))
    }

    @Test func theImagesNameLengthIsBounded() throws {
        let longest = String(repeating: "a", count: BuiltImageName.maximumNameLength)
        #expect(try BuiltImageName(tool: bot, name: longest).name == longest)
        let error = #expect(throws: KilnError.self) { try BuiltImageName(tool: self.bot, name: longest + "a") }
        #expect(error?.context["field"] == "image-name")
        #expect(throws: KilnError.self) { try BuiltImageName(parsing: "tool-bot/\(longest)a") }
    }

    @Test func theProblemWithANameIsSaid() {
        #expect(BuiltImageName.problem(withName: "web") == nil)
        #expect(BuiltImageName.problem(withName: "0") == nil)
        #expect(BuiltImageName.problem(withName: "a.b_c-d") == nil)
        #expect(BuiltImageName.problem(withName: "")?.contains("empty") == true)
        #expect(BuiltImageName.problem(withName: "_a")?.contains("start and end") == true)
        #expect(BuiltImageName.problem(withName: "a.")?.contains("start and end") == true)
        #expect(BuiltImageName.problem(withName: "a/b")?.contains("only lower-case") == true)
        #expect(BuiltImageName.problem(withName: "aBc")?.contains("only lower-case") == true)
        #expect(BuiltImageName.problem(withName: "a:b")?.contains("only lower-case") == true)
    }

    @Test func aToolsImageIsToldFromThePlatformsImages() {
        #expect(BuiltImageName.isBuiltImage("tool-bot/web:latest"))
        #expect(BuiltImageName.isBuiltImage(" tool-bot/web"))
        #expect(!BuiltImageName.isBuiltImage("python3.11"))
        #expect(!BuiltImageName.isBuiltImage("tool-bot"))
        #expect(!BuiltImageName.isBuiltImage("docker-registry.tools.wmflabs.org/toolforge-python311:latest"))
    }

    @Test func itIsCodedAsItsText() throws {
        let name = try BuiltImageName(tool: bot, name: "web", tag: .number(4))
        let data = try JSONEncoder().encode([name])
        #expect(try JSONDecoder().decode([String].self, from: data) == ["tool-bot/web:4"])
        #expect(try JSONDecoder().decode([BuiltImageName].self, from: data) == [name])
        let latest = try BuiltImageName(tool: bot, name: "web")
        #expect(try JSONDecoder().decode(BuiltImageName.self, from: JSONEncoder().encode(latest)) == latest)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([BuiltImageName].self, from: Data(#"["tool-bot/web:0"]"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([BuiltImageName].self, from: Data(#"[7]"#.utf8)) }
    }

    @Test func everyNumberedTagReadsBackAsItsDescription() throws {
        for tag in [1, 2, 9, 10, 99, 12_345, 999_999_999, BuiltImageName.maximumTagNumber] {
            let name = try BuiltImageName(tool: bot, name: "img", tag: .number(tag))
            #expect(try BuiltImageName(parsing: name.description) == name)
        }
    }
}

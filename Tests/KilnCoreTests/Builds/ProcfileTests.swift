import Foundation
import KilnCore
import Testing

@Suite struct ProcfileTests {
    @Test func processesAreReadInTheFilesOrder() throws {
        let procfile = try Procfile(
            parsing: """
                # the site
                web: gunicorn --bind 0.0.0.0:$PORT app:app

                worker:python worker.py --queue=a:b
                  Clean_Up-2:  ./clean.sh   
                """)
        #expect(procfile.processes.map(\.type) == ["web", "worker", "Clean_Up-2"])
        #expect(procfile.process("Clean_Up-2")?.command == "./clean.sh")
        #expect(procfile.process("web")?.command == "gunicorn --bind 0.0.0.0:$PORT app:app")
        // Only the first colon separates; the command keeps the others.
        #expect(procfile.process("worker")?.command == "python worker.py --queue=a:b")
        #expect(procfile.process("nope") == nil)
    }

    @Test func aTypeAndCommandAreTrimmedButATypeWithASpaceIsRefused() throws {
        let procfile = try Procfile(parsing: "  web:   ./serve   \n")
        #expect(procfile.processes == [Procfile.Process(type: "web", command: "./serve")])
        let error = #expect(throws: KilnError.self) { try Procfile(parsing: "web : ./serve") }
        #expect(error?.message.contains("line 1") == true)
    }

    @Test func anEmptyOrCommentOnlyFileHasNoProcesses() throws {
        #expect(try Procfile(parsing: "").processes.isEmpty)
        #expect(try Procfile(parsing: "\n\n   \n# web: nothing\n\t#x\n").processes.isEmpty)
    }

    @Test func windowsLineEndingsSeparateLines() throws {
        let procfile = try Procfile(parsing: "web: ./serve\r\nworker: ./work\r\n")
        #expect(procfile.processes == [Procfile.Process(type: "web", command: "./serve"), Procfile.Process(type: "worker", command: "./work")])
        // A line number counts CRLF lines too.
        let error = #expect(throws: KilnError.self) { try Procfile(parsing: "web: ./serve\r\n\r\nbad line\r\n") }
        #expect(error?.context["line"] == "3")
        // A lone carriage return at the end of a line is not part of the command.
        #expect(try Procfile(parsing: "web: ./serve\r").process("web")?.command == "./serve")
    }

    @Test(arguments: [
        ("web ./serve", "expected 'TYPE: COMMAND'"),
        (": ./serve", "empty"),
        ("web:", "has no command"),
        ("web:    ", "has no command"),
        ("we b: x", "only letters"),
        ("wéb: x", "only letters"),
        ("web.1: x", "only letters"),
        ("web\u{0}: x", "only letters"),
        ("web: a\u{0}b", "NUL"),
        ("\(String(repeating: "a", count: 64)): x", "longer than 63"),
    ])
    func aBadLineIsRefusedNamingItsNumber(line: String, why: String) {
        let error = #expect(throws: KilnError.self) { try Procfile(parsing: "# first\nweb2: ok\n\(line)\n") }
        #expect(error?.code == .badRequest)
        #expect(error?.context["file"] == "Procfile")
        #expect(error?.context["line"] == "3")
        #expect(error?.message.hasPrefix("Procfile, line 3: ") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(why) == true, "\(error?.message ?? "") should say \(why)")
    }

    @Test func aTypeDeclaredTwiceIsRefused() {
        let error = #expect(throws: KilnError.self) { try Procfile(parsing: "web: a\nworker: b\nweb: c") }
        #expect(error?.message.contains("declared twice") == true)
        #expect(error?.context["line"] == "3")
        // Types are case-sensitive, as buildpacks read them.
        #expect((try? Procfile(parsing: "web: a\nWeb: b"))?.processes.count == 2)
    }

    @Test func theLongestTypeIsAccepted() throws {
        let type = String(repeating: "a", count: Procfile.maximumTypeLength)
        #expect(try Procfile(parsing: "\(type): x").process(type)?.command == "x")
    }

    @Test func theNumberOfProcessesIsBounded() throws {
        let most = (0..<Procfile.maximumProcesses).map { "p\($0): run \($0)" }.joined(separator: "\n")
        #expect(try Procfile(parsing: most).processes.count == Procfile.maximumProcesses)
        let error = #expect(throws: KilnError.self) { try Procfile(parsing: most + "\none: more") }
        #expect(error?.message.contains("more than \(Procfile.maximumProcesses) processes") == true)
        #expect(error?.context["line"] == String(Procfile.maximumProcesses + 1))
    }

    @Test func theFilesSizeIsBounded() throws {
        let comment = "#" + String(repeating: "x", count: Procfile.maximumBytes - 1)
        #expect(try Procfile(parsing: comment).processes.isEmpty)
        let error = #expect(throws: KilnError.self) { try Procfile(parsing: comment + "x") }
        #expect(error?.message.contains("larger than") == true)
        #expect(error?.context["file"] == "Procfile")
        #expect(error?.context["line"] == nil)
        // Bytes are counted, not characters.
        #expect(throws: KilnError.self) { try Procfile(parsing: "#" + String(repeating: "é", count: Procfile.maximumBytes / 2)) }
    }

    @Test func theProblemWithATypeIsSaid() {
        #expect(Procfile.problem(withType: "web") == nil)
        #expect(Procfile.problem(withType: "A_b-9") == nil)
        #expect(Procfile.problem(withType: "") != nil)
        #expect(Procfile.problem(withType: "a b") != nil)
        #expect(Procfile.problem(withType: "a:b") != nil)
    }

    @Test func itIsCodable() throws {
        let procfile = try Procfile(parsing: "web: ./serve\nworker: ./work")
        #expect(try JSONDecoder().decode(Procfile.self, from: JSONEncoder().encode(procfile)) == procfile)
    }
}

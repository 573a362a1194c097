import Foundation
import KilnCore
import KilnTesting
import Testing

@testable import KilnRunner

/// The wrapper and its environment file, run by a real `/bin/sh`: hostile commands and values
/// arrive byte for byte and are never interpreted on the way; the values are in neither the
/// script nor any argument; the environment file is gone once read; the exit file says how the
/// command ended.
@Suite struct GridWrapperScriptTests {
    let folder: String

    init() throws {
        folder = try makeTemporaryDirectory(prefix: "kgw")
    }

    struct Run {
        var status: Int32
        var exit: String?
        var output: String
        var error: String
        var script: String
    }

    func run(_ command: String, environment: [String: String] = [:], workingDirectory: String? = nil) throws -> Run {
        let wrapper = GridWrapperScript(
            command: command, workingDirectory: workingDirectory ?? folder, output: folder + "/job.out", error: folder + "/job.err",
            environmentFile: folder + "/run.env", exitFile: folder + "/run.exit", label: "tool bot, job j, run 1 attempt 1")
        let script = try wrapper.text()
        try script.write(toFile: folder + "/run.sh", atomically: true, encoding: .utf8)
        try GridWrapperScript.environmentFile(environment, label: "test").write(toFile: folder + "/run.env", atomically: true, encoding: .utf8)
        let result = try runCommand("/usr/bin/env", ["-i", "/bin/sh", folder + "/run.sh"], timeout: .seconds(20))
        return Run(
            status: result.status, exit: try? String(contentsOfFile: folder + "/run.exit", encoding: .utf8),
            output: (try? String(contentsOfFile: folder + "/job.out", encoding: .utf8)) ?? "",
            error: (try? String(contentsOfFile: folder + "/job.err", encoding: .utf8)) ?? "", script: script)
    }

    static let hostile = [
        "it's", "\"quoted\"", "$HOME", "$(touch /tmp/kiln-pwned)", "`id`", "a\nb\nc", "back\\slash", "'; exit 9; '", "*", "-n", "",
        "\u{1F525} unicode", "\t tab",
    ]

    @Test(arguments: hostile)
    func aHostileValueArrivesExactlyAndStaysOutOfTheScript(value: String) throws {
        let run = try run("printf '%s' \"$SECRET\"", environment: ["SECRET": value, "PATH": "/usr/bin:/bin"])
        #expect(run.status == 0)
        #expect(run.output == value)
        #expect(run.exit == "0\n")
        if value.utf8.count > 3 { #expect(!run.script.contains(value)) }
        #expect(!FileManager.default.fileExists(atPath: folder + "/run.env"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/kiln-pwned"))
    }

    @Test(arguments: hostile)
    func aHostileCommandRunsAsWritten(word: String) throws {
        // The command prints its own text's word back: what the shell gets is what was given.
        let quoted = try ShellWord.quoted(word)
        let run = try run("printf '%s' \(quoted)", environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.output == word)
        #expect(run.exit == "0\n")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/kiln-pwned"))
    }

    @Test func exitCodesStreamsAndTheWorkingFolder() throws {
        let run = try run("echo out; echo err >&2; pwd; exit 3", environment: ["PATH": "/usr/bin:/bin"], workingDirectory: "/")
        #expect(run.status == 3)
        #expect(run.exit == "3\n")
        #expect(run.output == "out\n/\n")
        #expect(run.error == "err\n")
    }

    @Test func aCommandKilledByASignalEndsTheWrapperByTheSameSignal() throws {
        let run = try run("sh -c 'kill -TERM $$'", environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.exit == "143\n")
        #expect(run.status == 128 + 15 || run.status == -15 || run.status == 15)
        #expect(GridAttemptFiles.exitStatus(run.exit ?? "") == .signaled(signal: 15))
    }

    @Test func theEnvironmentIsReadOnceAndAMissingOneRunsNothing() throws {
        let first = try run("echo ran", environment: ["PATH": "/usr/bin:/bin"])
        #expect(first.output == "ran\n")
        // The grid started it again: the environment is gone, and the command does not run.
        let again = try runCommand("/usr/bin/env", ["-i", "/bin/sh", folder + "/run.sh"], timeout: .seconds(20))
        #expect(again.status == GridWrapperScript.couldNotStartStatus)
        #expect(try String(contentsOfFile: folder + "/job.out", encoding: .utf8) == "ran\n")
        #expect(try String(contentsOfFile: folder + "/job.err", encoding: .utf8).contains("environment is missing"))
        #expect(try String(contentsOfFile: folder + "/run.exit", encoding: .utf8) == "125\n")
    }

    @Test func aMissingWorkingFolderIsAnEndNotAHang() throws {
        let run = try run("echo never", environment: ["PATH": "/usr/bin:/bin"], workingDirectory: folder + "/gone")
        #expect(run.exit == "125\n")
        #expect(run.output == "")
    }

    /// A tool's PATH without /bin cannot keep the environment file from being removed.
    @Test func theToolsOwnPathDoesNotKeepTheEnvironmentFile() throws {
        let run = try run("echo $PATH", environment: ["PATH": "/nowhere"])
        #expect(run.output == "/nowhere\n")
        #expect(!FileManager.default.fileExists(atPath: folder + "/run.env"))
        #expect(run.exit == "0\n")
    }

    @Test func namesThatAreNoVariablesAndNULsAreRefused() {
        #expect(throws: KilnError.self) { try GridWrapperScript.environmentFile(["A B": "x"], label: "t") }
        #expect(throws: KilnError.self) { try GridWrapperScript.environmentFile(["1A": "x"], label: "t") }
        #expect(throws: KilnError.self) { try GridWrapperScript.environmentFile(["A": "x\u{0}y"], label: "t") }
        #expect(throws: KilnError.self) { try GridWrapperScript(command: "a\u{0}b", workingDirectory: "/", environmentFile: "/e", exitFile: "/x", label: "l").text() }
        #expect((try? GridWrapperScript.environmentFile(["_A1": "x", "path": "y"], label: "t")) != nil)
    }

    @Test func exitFilesAreNumbersOfAByte() {
        #expect(GridAttemptFiles.exitStatus("0\n") == .exited(code: 0))
        #expect(GridAttemptFiles.exitStatus("137") == .signaled(signal: 9))
        #expect(GridAttemptFiles.exitStatus("255") == .exited(code: 255))
        #expect(GridAttemptFiles.exitStatus("256") == nil)
        #expect(GridAttemptFiles.exitStatus("-1") == nil)
        #expect(GridAttemptFiles.exitStatus("") == nil)
        #expect(GridAttemptFiles.exitStatus("12345678") == nil)
        #expect(GridAttemptFiles.exitStatus("three") == nil)
    }
}

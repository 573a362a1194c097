import Foundation

extension ToolforgeCommand {
    /// What the words before the command ask for. Toolforge's `toolforge` is a click group: its
    /// own options come first, then one command, whose arguments are that command's.
    enum Front: Equatable {
        /// `--help`, or no command at all: the help, exit 0.
        case help
        /// Run this command line (the group's own options taken out).
        case run([String])
        /// A usage error, said as click says it; exit 2.
        case usageError(String)
    }

    /// Options of the group that change only how much it logs: taken and dropped.
    static let quietOptions: Set<String> = ["-v", "--verbose", "-d", "--debug"]

    /// Toolforge's other commands, which this platform does not have, and why.
    static let missingCommands: [String: String] = [
        "build": "This platform cannot build images from source yet: jobs run in its images (see `toolforge jobs images`).",
        "components": "This platform has no components API: declare jobs with `toolforge jobs load` instead.",
    ]

    static func front(_ arguments: [String]) -> Front {
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let word = arguments[index]
            if word == "--help" { return .help }
            if quietOptions.contains(word) || isClusterOfQuietFlags(word) {
                index += 1
                continue
            }
            if word.hasPrefix("-") { return .usageError("No such option: \(word)") }
            guard commands.contains(where: { $0.name == word }) else {
                var message = "No such command '\(word)'."
                if let why = missingCommands[word] { message += " " + why }
                let names = commands.map(\.name).joined(separator: ", ")
                return .usageError(message + "\nThe commands are: \(names). See 'toolforge --help'.")
            }
            return .run(Array(arguments[index...]))
        }
        return .help
    }

    /// `-vd`: click takes short flags together.
    static func isClusterOfQuietFlags(_ word: String) -> Bool {
        word.count > 2 && word.hasPrefix("-") && !word.hasPrefix("--") && word.dropFirst().allSatisfy { $0 == "v" || $0 == "d" }
    }

    static let usageLine = "Usage: toolforge [OPTIONS] COMMAND [ARGS]..."

    /// The help, in click's shape: usage, description, Options, Commands.
    static var help: String {
        let options = [
            ("-v, --verbose", "Show more of what happens (accepted for compatibility)."),
            ("-d, --debug", "Show debugging logs (accepted for compatibility)."),
            ("--help", "Show this message and exit."),
        ]
        return [
            usageLine, "", "  Toolforge command line: the tool's jobs, webservice and envvars.", "",
            "Options:", columns(options), "", "Commands:", columns(commands.map { ($0.name, $0.abstract) }),
        ].joined(separator: "\n") + "\n"
    }

    /// A usage error as click prints it (on standard error).
    static func usageErrorText(_ message: String) -> String {
        "\(usageLine)\nTry 'toolforge --help' for help.\n\nError: \(message)\n"
    }

    /// Two columns, the second aligned two spaces after the longest first, as click lays them out.
    static func columns(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { left, right in
            "  " + left + String(repeating: " ", count: width - left.count + 2) + right
        }.joined(separator: "\n")
    }

    /// Runs a `toolforge` command line: `kiln toolforge …` (`asKiln`) or the binary named `toolforge`.
    static func main(_ arguments: [String], asKiln: Bool) async -> Never {
        switch front(arguments) {
        case .help:
            FileHandle.standardOutput.write(Data(help.utf8))
            Foundation.exit(0)
        case .usageError(let message):
            FileHandle.standardError.write(Data(usageErrorText(message).utf8))
            Foundation.exit(2)
        case .run(let command):
            if asKiln {
                await KilnCommand.run(KilnCommand.self, ["toolforge"] + command)
            } else {
                await KilnCommand.run(ToolforgeCommand.self, command)
            }
        }
    }
}

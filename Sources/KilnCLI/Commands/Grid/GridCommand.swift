import Foundation
import KilnCore
import KilnFormats

/// `jsub`, `jstart` and `jstop` (the binary installed or linked under those names, or `kiln jsub …`):
/// the grid era's commands, which users' crontabs still call, on Kiln's jobs. jsub declares a
/// one-off job, jstart a continuous one, both seen and managed by `kiln jobs` too; jstop deletes
/// one. Their words are jobutils': single-dash options before the program (`GridSubmission`), and
/// exit codes as the grid's: 0, or 1 for any error.
enum GridCommand {
    enum Invocation: String, CaseIterable {
        case jsub, jstart, qcronsub, jstop

        /// The submission an invocation makes (nil for jstop).
        var submission: JsubOptions.Invocation? {
            switch self {
            case .jsub: .jsub
            case .jstart: .jstart
            case .qcronsub: .qcronsub
            case .jstop: nil
            }
        }
    }

    /// The command a binary's name or `kiln`'s first word stands for.
    static func invocation(named name: String) -> Invocation? {
        Invocation(rawValue: (name as NSString).lastPathComponent)
    }

    static func main(_ invocation: Invocation, _ arguments: [String]) async -> Never {
        let code: Int32
        if let submission = invocation.submission {
            code = await GridSubmission(invocation: submission, arguments: arguments).run()
        } else {
            code = await GridStop(arguments: arguments).run()
        }
        Foundation.exit(code)
    }

    /// A line on standard error.
    static func complain(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// An error as the user reads it: the server's message, Kiln's, or the error itself.
    static func text(of error: any Error) -> String {
        switch error {
        case let error as KilnError: error.message
        case let error as CLIError: error.description
        default: "\(error)"
        }
    }
}

import Foundation

/// Messages as Toolforge's CLIs write them (Python logging's `LEVEL: text`), on standard output,
/// where users' scripts look for them.
enum ToolforgeLog {
    enum Level: String {
        case error = "ERROR"
        case warning = "WARNING"
    }

    static func write(_ level: Level, _ message: String) {
        FileHandle.standardOutput.write(Data("\(level.rawValue): \(message)\n".utf8))
    }
}

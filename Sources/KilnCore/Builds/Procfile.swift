/// A repository's `Procfile`: the processes its image can run, one `TYPE: COMMAND` a line (the
/// Heroku and buildpacks format): `web` is what a webservice runs, any other type a job may name.
public struct Procfile: Sendable, Hashable, Codable {
    /// The processes in the file's order.
    public var processes: [Process]

    public struct Process: Sendable, Hashable, Codable {
        public var type: String
        /// Shell, run by `/bin/sh -c` in the image's application folder.
        public var command: String

        public init(type: String, command: String) {
            self.type = type
            self.command = command
        }
    }

    public static let maximumBytes = 64 * 1024
    public static let maximumTypeLength = 63
    public static let maximumProcesses = 100

    public init(processes: [Process]) { self.processes = processes }

    /// Reads the file; a line that is neither blank, a `#` comment nor `TYPE: COMMAND` is an
    /// error naming its number.
    public init(parsing text: String) throws(KilnError) {
        guard text.utf8.count <= Self.maximumBytes else {
            throw KilnError(.badRequest, "Procfile: larger than \(Self.maximumBytes) bytes", context: ["file": "Procfile"])
        }
        var processes: [Process] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift: splitting on "\n" alone would read a CRLF file as one line.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            let trimmed = String(line).trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            func invalid(_ why: String) -> KilnError {
                KilnError(.badRequest, "Procfile, line \(lineNumber): \(why)", context: ["file": "Procfile", "line": String(lineNumber)])
            }
            guard let colon = trimmed.firstIndex(of: ":") else { throw invalid("expected 'TYPE: COMMAND'") }
            let type = String(trimmed[..<colon])
            let command = String(trimmed[trimmed.index(after: colon)...]).trimmingWhitespace()
            if let problem = Self.problem(withType: type) { throw invalid(problem) }
            guard !command.isEmpty else { throw invalid("the process '\(type)' has no command") }
            guard !command.utf8.contains(0) else { throw invalid("the command holds a NUL byte") }
            guard !processes.contains(where: { $0.type == type }) else { throw invalid("the process '\(type)' is declared twice") }
            guard processes.count < Self.maximumProcesses else { throw invalid("more than \(Self.maximumProcesses) processes") }
            processes.append(Process(type: type, command: command))
        }
        self.processes = processes
    }

    /// Why `type` cannot name a process (letters, digits, `-` and `_`, as buildpacks allow), or nil.
    public static func problem(withType type: String) -> String? {
        let bytes = Array(type.utf8)
        guard !bytes.isEmpty else { return "a process type is empty" }
        guard bytes.count <= maximumTypeLength else { return "the process type is longer than \(maximumTypeLength) characters" }
        for byte in bytes {
            let allowed = (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            guard allowed else { return "the process type '\(type)' may hold only letters, digits, '-' and '_'" }
        }
        return nil
    }

    public func process(_ type: String) -> Process? { processes.first { $0.type == type } }
}

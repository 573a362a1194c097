import KilnCore

/// A crontab read as cron reads it, a line at a time: comments and blank lines, variables
/// (`MAILTO=…`, `PATH=…`), and jobs (five schedule fields or a nickname, then a command).
public enum Crontab {
    public enum Line: Sendable, Hashable {
        case blank
        case variable(name: String, value: String)
        /// The schedule as written (five fields with single spaces, or `@daily` …), and the command.
        case job(schedule: String, command: String)
        /// Not a line cron takes, and why.
        case invalid(String)
    }

    /// The longest crontab read (`JobsFile`'s bound on users' files).
    public static let maximumLength = 1 << 20

    /// Each line with its number (from 1).
    public static func lines(_ text: String) throws(KilnError) -> [(number: Int, line: Line)] {
        guard text.utf8.count <= maximumLength else {
            throw KilnError(.badRequest, "the crontab is larger than \(maximumLength) bytes")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, raw in
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            return (index + 1, read(line))
        }
    }

    static func read(_ raw: Substring) -> Line {
        let line = raw.drop { $0 == " " || $0 == "\t" }
        guard let first = line.first, first != "#" else { return .blank }
        if first == "@" {
            let nickname = line.prefix { $0 != " " && $0 != "\t" }
            let command = line.dropFirst(nickname.count).drop { $0 == " " || $0 == "\t" }
            guard !command.isEmpty else { return .invalid("'\(nickname)' has no command") }
            return .job(schedule: String(nickname), command: String(command))
        }
        if first == "*" || first.isASCII && first.isNumber {
            var rest = line
            var fields: [Substring] = []
            for _ in 0..<5 {
                rest = rest.drop { $0 == " " || $0 == "\t" }
                let field = rest.prefix { $0 != " " && $0 != "\t" }
                guard !field.isEmpty else { break }
                fields.append(field)
                rest = rest.dropFirst(field.count)
            }
            let command = rest.drop { $0 == " " || $0 == "\t" }
            guard fields.count == 5, !command.isEmpty else {
                return .invalid("a job line is five schedule fields and a command")
            }
            return .job(schedule: fields.joined(separator: " "), command: String(command))
        }
        guard let equals = line.firstIndex(of: "=") else {
            return .invalid("neither a job (five schedule fields or @daily …, then a command), a variable (NAME=VALUE) nor a comment")
        }
        let name = line[..<equals].trimmingCharacters(of: " \t")
        guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else {
            return .invalid("a variable's name is one word")
        }
        var value = line[line.index(after: equals)...].trimmingCharacters(of: " \t")
        // cron takes a quoted value without its quotes.
        if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
            value = String(value.dropFirst().dropLast())
        }
        return .variable(name: String(name), value: value)
    }
}

extension StringProtocol {
    func trimmingCharacters(of set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

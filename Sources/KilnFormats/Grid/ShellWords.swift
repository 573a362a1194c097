import KilnCore

/// A line of POSIX shell as `sh` splits it: words (quotes and backslashes removed) and the
/// operators between them (`;`, `&&`, `|`, `>`, `2>&1` …), each with where it was written, so
/// that a converter can read a crontab's `jsub` options and keep the rest of the line as the
/// user wrote it. Nothing is expanded: `$HOME` stays `$HOME`, and the word says it expands.
public enum ShellWords {
    public struct Token: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case word, `operator`
        }

        public var kind: Kind
        /// A word without its quotes; an operator as written, with its descriptor (`2>`).
        public var text: String
        /// Where it was written in the line.
        public var range: Range<String.Index>
        /// The shell would change it: an unquoted or double-quoted `$`, or a backquote.
        public var expands: Bool

        public var isWord: Bool { kind == .word }
    }

    /// The most a line may hold: crontab lines are short, and this bounds the work on a hostile one.
    public static let maximumLength = 64 * 1024

    static let operatorCharacters: Set<Unicode.Scalar> = [";", "&", "|", "<", ">", "(", ")"]

    /// The line's tokens; an unterminated quote or substitution is an error saying which.
    public static func tokens(_ line: String) throws(KilnError) -> [Token] {
        guard line.utf8.count <= maximumLength else {
            throw KilnError(.badRequest, "the line is longer than \(maximumLength) bytes")
        }
        var reader = Reader(line)
        var tokens: [Token] = []
        while let scalar = reader.peek() {
            if scalar == " " || scalar == "\t" {
                reader.advance()
            } else if scalar == "#" {
                break  // a comment, as sh reads `#` at the start of a word
            } else if operatorCharacters.contains(scalar) {
                tokens.append(reader.readOperator(prefix: "", from: reader.index))
            } else {
                tokens.append(try reader.readWord())
            }
        }
        return tokens
    }

    /// Characters a word may hold unquoted and mean only themselves.
    static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "@", "%", "+", ":", ",", ".", "/", "-": true
        default: false
        }
    }

    /// `word` as sh reads it back as one word, unchanged: as it is when plain, else single-quoted.
    public static func quote(_ word: String) -> String {
        if !word.isEmpty, word.unicodeScalars.allSatisfy(isPlain) { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// A path as sh reads it back, keeping a leading `~/` (the home) unquoted so that it expands.
    public static func quotePath(_ path: String) -> String {
        if path == "~" { return path }
        if path.hasPrefix("~/") {
            let rest = String(path.dropFirst(2))
            return rest.isEmpty ? "~/" : "~/" + quote(rest)
        }
        return quote(path)
    }
}

extension ShellWords {
    /// A cursor over the line's scalars.
    struct Reader {
        let line: String
        let scalars: String.UnicodeScalarView
        var index: String.Index

        init(_ line: String) {
            self.line = line
            scalars = line.unicodeScalars
            index = scalars.startIndex
        }

        func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            var position = index
            for _ in 0..<offset {
                guard position < scalars.endIndex else { return nil }
                position = scalars.index(after: position)
            }
            return position < scalars.endIndex ? scalars[position] : nil
        }

        mutating func advance() { index = scalars.index(after: index) }

        mutating func next() -> Unicode.Scalar? {
            guard index < scalars.endIndex else { return nil }
            defer { advance() }
            return scalars[index]
        }

        /// `;` `;;` `&` `&&` `|` `||` `(` `)` and the redirections (`>` `>>` `>&` `>|` `<` `<<` `<&` `<>` `&>` `&>>`),
        /// with a descriptor (`2`) written before them.
        mutating func readOperator(prefix: String, from start: String.Index) -> Token {
            var text = prefix
            if let first = next() { text.unicodeScalars.append(first) }
            let followers: Set<Unicode.Scalar> =
                switch text.unicodeScalars.last {
                case ";": [";"]
                case "&": ["&", ">"]
                case "|": ["|"]
                case ">": [">", "&", "|"]
                case "<": ["<", "&", ">"]
                default: []
                }
            if let second = peek(), followers.contains(second) {
                advance()
                text.unicodeScalars.append(second)
                if text.hasSuffix("&>"), peek() == ">" {
                    advance()
                    text += ">"
                }
            }
            return Token(kind: .operator, text: text, range: start..<index, expands: false)
        }

        mutating func readWord() throws(KilnError) -> Token {
            let start = index
            var text = ""
            var expands = false
            var quoted = false
            while let scalar = peek() {
                if scalar == " " || scalar == "\t" || ShellWords.operatorCharacters.contains(scalar) { break }
                switch scalar {
                case "\\":
                    advance()
                    if let escaped = next(), escaped != "\n" { text.unicodeScalars.append(escaped) }
                    quoted = true
                case "'":
                    advance()
                    try readSingleQuoted(into: &text)
                    quoted = true
                case "\"":
                    advance()
                    expands = try readDoubleQuoted(into: &text) || expands
                    quoted = true
                case "$", "`":
                    expands = true
                    try readSubstitution(into: &text)
                default:
                    advance()
                    text.unicodeScalars.append(scalar)
                }
            }
            // `2>` and `2>&1`: a number written right before a redirection is its descriptor.
            if !quoted, !text.isEmpty, text.unicodeScalars.allSatisfy({ $0 >= "0" && $0 <= "9" }), let next = peek(),
                next == ">" || next == "<"
            {
                return readOperator(prefix: text, from: start)
            }
            return Token(kind: .word, text: text, range: start..<index, expands: expands)
        }

        mutating func readSingleQuoted(into text: inout String) throws(KilnError) {
            while let scalar = next() {
                if scalar == "'" { return }
                text.unicodeScalars.append(scalar)
            }
            throw KilnError(.badRequest, "a single quote (') is not closed")
        }

        /// Returns whether the quoted text expands (`$`, backquotes).
        mutating func readDoubleQuoted(into text: inout String) throws(KilnError) -> Bool {
            var expands = false
            while let scalar = peek() {
                switch scalar {
                case "\"":
                    advance()
                    return expands
                case "\\":
                    advance()
                    guard let escaped = next() else { break }
                    // Inside double quotes a backslash escapes only these; elsewhere it stays.
                    if escaped == "\n" { continue }
                    if !["$", "`", "\"", "\\"].contains(escaped) { text += "\\" }
                    text.unicodeScalars.append(escaped)
                case "$", "`":
                    expands = true
                    try readSubstitution(into: &text)
                default:
                    advance()
                    text.unicodeScalars.append(scalar)
                }
            }
            throw KilnError(.badRequest, "a double quote (\") is not closed")
        }

        /// `$NAME`, `${…}`, `$(…)` and `` `…` `` kept as written (one word, spaces and all).
        mutating func readSubstitution(into text: inout String) throws(KilnError) {
            guard let first = next() else { return }
            text.unicodeScalars.append(first)
            if first == "`" {
                while let scalar = next() {
                    text.unicodeScalars.append(scalar)
                    if scalar == "\\", let escaped = next() {
                        text.unicodeScalars.append(escaped)
                    } else if scalar == "`" {
                        return
                    }
                }
                throw KilnError(.badRequest, "a backquote (`) is not closed")
            }
            guard let opening = peek(), opening == "(" || opening == "{" else { return }
            let closing: Unicode.Scalar = opening == "(" ? ")" : "}"
            var depth = 0
            while let scalar = next() {
                text.unicodeScalars.append(scalar)
                if scalar == opening {
                    depth += 1
                } else if scalar == closing {
                    depth -= 1
                    if depth == 0 { return }
                } else if scalar == "'" {
                    // Quotes inside a substitution are the inner shell's: kept as written.
                    while let inner = next() {
                        text.unicodeScalars.append(inner)
                        if inner == "'" { break }
                    }
                }
            }
            throw KilnError(.badRequest, "'$\(opening)' is not closed")
        }
    }
}

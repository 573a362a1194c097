import KilnCore

/// Words for a POSIX shell script the platform writes: every value single-quoted, so that no
/// byte of it (`$`, a backquote, a quote, a newline) is ever interpreted by the shell that reads
/// the script.
enum ShellWord {
    /// `value` as one shell word: `'…'`, each `'` in it written `'\''`. NUL cannot be in a shell
    /// script (nor in an argument or an environment string): refused.
    static func quoted(_ value: String) throws(KilnError) -> String {
        guard !value.utf8.contains(0) else {
            throw KilnError(.badRequest, "a value for the job's shell contains a NUL byte")
        }
        return "'" + value.replacing("'", with: "'\\''") + "'"
    }

    /// Whether `name` can be a shell variable's name (and so an exported environment variable).
    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
    }
}

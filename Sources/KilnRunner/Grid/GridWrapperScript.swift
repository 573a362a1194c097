import KilnCore

/// The shell script a grid runs for one attempt (as the tool, on whatever host it picked), and
/// the environment file it reads. The script holds no envvar's value: those are in the
/// environment file (0600, the tool's), which the script reads and removes before anything of
/// the tool's runs, so they are never in an argument (`ps`, `qstat -j`, `scontrol show job`),
/// nor in the script the grid keeps, nor in a file another user can read.
///
/// The script appends the command's output to the job's log files, runs it (`/bin/sh -c` as
/// the local backend does, in the working folder), and writes its exit status to the exit file
/// on the shared home: the end is known without the grid's accounting and after a restart of
/// the platform.
struct GridWrapperScript: Sendable, Hashable {
    var command: String
    var workingDirectory: String
    /// Where the streams are appended; nil discards them.
    var output: String?
    var error: String?
    var environmentFile: String
    var exitFile: String
    /// Said in the script's first comment: whose attempt it is.
    var label: String

    /// The exit status a wrapper reports when it cannot start the command: the environment file
    /// was missing (the grid started the job a second time) or the working folder is not there.
    static let couldNotStartStatus: Int32 = 125

    func text() throws(KilnError) -> String {
        let environmentFile = try ShellWord.quoted(environmentFile)
        let exitFile = try ShellWord.quoted(exitFile)
        let output = try output.map { path throws(KilnError) in try ShellWord.quoted(path) } ?? "/dev/null"
        let error = try error.map { path throws(KilnError) in try ShellWord.quoted(path) } ?? "/dev/null"
        let workingDirectory = try ShellWord.quoted(workingDirectory)
        let command = try ShellWord.quoted(command)
        let label = label.filter { !$0.isNewline }
        return """
            #!/bin/sh
            # Kiln: \(label). Written for this attempt alone; the platform removes it.
            __kiln_exit=\(exitFile)
            __kiln_end() {
              printf '%s\\n' "$1" > "$__kiln_exit.new" && /bin/mv -f "$__kiln_exit.new" "$__kiln_exit"
            }
            exec >>\(output) 2>>\(error) </dev/null
            if [ ! -f \(environmentFile) ]; then
              echo "kiln: the job's environment is missing (was it started twice?): not running it" >&2
              __kiln_end \(Self.couldNotStartStatus); exit \(Self.couldNotStartStatus)
            fi
            set -a
            . \(environmentFile)
            set +a
            /bin/rm -f \(environmentFile)
            cd \(workingDirectory) || { __kiln_end \(Self.couldNotStartStatus); exit \(Self.couldNotStartStatus); }
            __kiln_command=\(command)
            ( set --; eval "$__kiln_command" ) &
            __kiln_child=$!
            # A cancel's TERM: passed on, and the command's end awaited, for the wrapper's end
            # ends the job and the grid then kills whatever is left at once (no grace).
            trap 'kill -TERM "$__kiln_child" 2>/dev/null' TERM
            wait "$__kiln_child"
            __kiln_status=$?
            while kill -0 "$__kiln_child" 2>/dev/null; do
              wait "$__kiln_child"
              __kiln_status=$?
            done
            trap - TERM
            __kiln_end "$__kiln_status"
            # Killed by a signal: end by the same signal, so the grid also says it was killed.
            if [ "$__kiln_status" -gt 128 ] && [ "$__kiln_status" -lt 160 ]; then
              trap - "$((__kiln_status - 128))" 2>/dev/null
              kill -"$((__kiln_status - 128))" $$ 2>/dev/null
            fi
            exit "$__kiln_status"

            """
    }

    /// The environment file: one `NAME='value'` line a variable (exported by the script's
    /// `set -a`). A name that is no shell variable's is refused (the platform's and the tool's
    /// names are checked long before; this is the last word).
    static func environmentFile(_ environment: [String: String], label: String) throws(KilnError) -> String {
        var lines = ["# Kiln: the environment of \(label.filter { !$0.isNewline }). Removed by the job once read."]
        for name in environment.keys.sorted() {
            guard ShellWord.isVariableName(name), let value = environment[name] else {
                throw KilnError(.badRequest, "'\(name)' cannot be an environment variable's name", context: ["name": name])
            }
            lines.append("\(name)=\(try ShellWord.quoted(value))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

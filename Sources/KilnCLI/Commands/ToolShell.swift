import Foundation
import KilnAPI
import KilnRunner

#if canImport(Glibc)
import Glibc
#endif

/// `kiln webservice shell`: replaces the CLI with an interactive shell as the tool, in its home,
/// in the environment its webservice gets. It runs with the caller's rights: the tool's own user
/// becomes the shell itself; root enters the tool's user through kiln-enter, as every process of
/// the tool's does; anyone else is refused rather than given a shell that is not the tool's.
enum ToolShell {
    static func exec(_ shell: WebserviceShellResponse) throws -> Never {
        let program = FileManager.default.isExecutableFile(atPath: "/bin/bash") ? "/bin/bash" : "/bin/sh"
        let executable: String
        let arguments: [String]
        switch shell.user {
        case .some(let user) where user.uid != geteuid():
            guard geteuid() == 0 else {
                throw CLIError.user(
                    "webservice shell runs as the tool: become its user first (sudo -iu \(user.name)), or run it as root")
            }
            executable = try ProcessEntry.helper()
            arguments = ["-u", "\(user.uid):\(user.gid)", "-C", shell.home, "--", program]
        case .some, .none:
            guard chdir(shell.home) == 0 else {
                throw CLIError.user("cannot enter the tool's home \(shell.home): \(String(cString: strerror(errno)))")
            }
            executable = program
            arguments = []
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = shell.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(executable, argv, envp)
        throw CLIError.user("cannot start \(executable): \(String(cString: strerror(errno)))")
    }
}

import Foundation
import KilnCore
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs grid commands as real processes: the program found in the configuration's PATH, with
/// the configuration's environment and nothing else, in `/`. A command for a tool runs as the
/// tool's user through `setpriv` (its uid and gid, no supplementary groups, HOME and USER its
/// own): the server, which is multi-threaded, never changes uid in a fork of its own.
public struct SubprocessGridCommandRunner: GridCommandRunner {
    public let environment: [String: String]
    /// Where `setpriv` is (util-linux).
    let setpriv: String

    public init(environment: [String: String], setpriv: String = "/usr/bin/setpriv") {
        self.environment = environment
        self.setpriv = setpriv
    }

    /// A listing of a thousand jobs is well under this; more is not a grid's answer.
    static let outputLimit = 32 << 20

    public func run(_ command: GridCommand, timeout: Duration) async throws(KilnError) -> GridCommand.Result {
        guard let program = locate(command.program) else {
            throw KilnError(
                .unavailable, "\(command.program) is not installed on this host (PATH \(environment["PATH"] ?? "")",
                context: ["grid": "missing", "program": command.program])
        }
        var executable = program
        var arguments = command.arguments
        var environment = self.environment
        if let user = command.user {
            guard user.uid != 0 else {
                throw KilnError(.forbidden, "refusing to run \(command.program) for a tool as root", context: ["program": command.program])
            }
            executable = setpriv
            arguments = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", program] + arguments
            environment["USER"] = user.name
            environment["LOGNAME"] = user.name
            environment["HOME"] = getpwnam(user.name).map { String(cString: $0.pointee.pw_dir) } ?? "/"
        }
        let label = command.description
        let run: @Sendable () async throws -> GridCommand.Result = { [executable, arguments, environment] in
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments),
                environment: .custom(environment.reduce(into: [:]) { $0[.init(stringLiteral: $1.key)] = $1.value }),
                workingDirectory: FilePath("/"), input: .none,
                output: .string(limit: Self.outputLimit), error: .string(limit: Self.outputLimit))
            let status: Int32 =
                switch result.terminationStatus {
                case .exited(let code): code
                case .signaled(let signal): 128 + signal
                }
            return GridCommand.Result(status: status, output: result.standardOutput, error: result.standardError)
        }
        do {
            return try await withThrowingTaskGroup(of: GridCommand.Result?.self) { group in
                group.addTask { try await run() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw KilnError.gridUnreachable("\(label) took longer than \(timeout)")
                }
                return result
            }
        } catch let error as KilnError {
            throw error
        } catch is CancellationError {
            throw KilnError(.unavailable, "\(label) was cancelled", context: ["grid": "cancelled"])
        } catch {
            throw KilnError(.unavailable, "cannot run \(label): \(error)", context: ["grid": "missing", "program": command.program])
        }
    }

    /// The program's path: one of the configuration's PATH folders that has it executable.
    func locate(_ program: String) -> String? {
        if program.hasPrefix("/") { return access(program, X_OK) == 0 ? program : nil }
        for folder in (environment["PATH"] ?? GridConfiguration.defaultPath).split(separator: ":") {
            let candidate = "\(folder)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

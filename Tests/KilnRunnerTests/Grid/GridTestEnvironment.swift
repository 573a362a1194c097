import Foundation
import KilnCore
import KilnRunner
import KilnTesting
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// What the grid integration tests need: root, a grid that answers (`scripts/grid-up all`),
/// a real tool user (made here once with useradd), a home on the shared filesystem, and commands
/// run without blocking the cooperative pool.
enum GridTestEnvironment {
    static let toolUserName = "kiln-gridtool"

    static var gridEngineUp: Bool {
        get async {
            guard geteuid() == 0 else { return false }
            return (try? await run("qstat", ["-xml", "-u", "*"], environment: GridConfiguration.gridEngine().commandEnvironment))?.status == 0
        }
    }

    static var slurmUp: Bool {
        get async {
            guard geteuid() == 0 else { return false }
            return (try? await run("scontrol", ["ping"]))?.output.contains("is UP") == true
        }
    }

    /// The tool's user, made once (a system user with its own group, no home, no login).
    static func toolUser() async throws -> UnixIdentity {
        if let known = lookUp(toolUserName) { return known }
        let made = try await run(
            "useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "--comment", "Kiln grid tests", toolUserName])
        guard let user = lookUp(toolUserName) else { throw TestFailure("useradd \(toolUserName) failed: \(made.error)") }
        return user
    }

    static func lookUp(_ name: String) -> UnixIdentity? {
        guard let entry = getpwnam(name) else { return nil }
        return UnixIdentity(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// A new home of the user's (0750) under a folder every host's daemons pass through.
    static func makeHome(for user: UnixIdentity) throws -> String {
        let home = try makeTemporaryDirectory(prefix: "kgrid") + "/home"
        guard mkdir(home, 0o750) == 0, chown(home, user.uid, user.gid) == 0 else { throw TestFailure("cannot make \(home)") }
        return home
    }

    struct Output: Sendable {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs a program (looked up in the grids' PATH) to its end, asynchronously.
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = ["PATH": GridConfiguration.defaultPath]) async throws -> Output {
        let candidates: [String] = GridConfiguration.defaultPath.split(separator: ":").map { folder in "\(folder)/\(program)" }
        let path = candidates.first { candidate in access(candidate, X_OK) == 0 }
        guard let path else { throw TestFailure("\(program) is not installed") }
        let result = try await Subprocess.run(
            .path(FilePath(path)), arguments: Arguments(arguments),
            environment: .custom(environment.reduce(into: [:]) { $0[.init(stringLiteral: $1.key)] = $1.value }),
            output: .string(limit: 16 << 20), error: .string(limit: 1 << 20))
        let status: Int32 =
            switch result.terminationStatus {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        return Output(status: status, output: result.standardOutput, error: result.standardError)
    }
}

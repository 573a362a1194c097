import Foundation
import KilnCore
import Subprocess
import SystemPackage

/// A program of the host's that the platform runs with its own rights (iproute2, nftables),
/// its output kept for the error that says why it failed.
enum HostCommand {
    /// The program in the system's folders; nil when it is not installed.
    static func locate(_ name: String) -> String? {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `program` with `input` on its standard input; throws, with its standard error, unless
    /// it exits with 0. `what` says what it was for.
    static func run(_ program: String, _ arguments: [String], input: String = "", what: String) async throws(KilnError) {
        let label = ([program] + arguments).joined(separator: " ")
        do {
            let result = try await Subprocess.run(
                .path(FilePath(program)), arguments: Arguments(arguments), environment: .custom(["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]),
                workingDirectory: FilePath("/"), input: .string(input), output: .discarded, error: .string(limit: 64 * 1024))
            guard result.terminationStatus.isSuccess else {
                let stderr = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
                throw KilnError(.unavailable, "cannot \(what): \(label) failed (\(result.terminationStatus)): \(stderr)", context: ["command": label])
            }
        } catch let error as KilnError {
            throw error
        } catch {
            throw KilnError(.unavailable, "cannot \(what): cannot run \(label): \(error)", context: ["command": label])
        }
    }
}

import Foundation
import KilnCore

/// How a tool's process begins: `kiln-enter` (installed beside `kiln`), run with the platform's
/// rights, puts itself into the process's control groups, sets its limits, becomes the tool's
/// user, enters the working folder as the tool and executes the program. Nothing of the tool
/// runs outside its groups or as root, and root never follows a link in a tool's home.
public enum ProcessEntry {
    public static let helperName = "kiln-enter"

    /// The helper beside the running executable (`kiln`, or the tests beside it in the build
    /// folder); nil when it is missing.
    public static let helperPath: String? = {
        let candidate = (runningExecutable as NSString).deletingLastPathComponent + "/" + helperName
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }()

    static let runningExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]

    /// The helper, or why nothing of a tool's can start here.
    public static func helper() throws(KilnError) -> String {
        guard let helperPath else {
            throw KilnError(
                .unavailable,
                "\(helperName) is missing beside \(runningExecutable): build it with the rest (`swift build --product \(helperName)`) and "
                    + "install it in the same folder as kiln")
        }
        return helperPath
    }

    /// The program and arguments that start `spec` through `helper`; the spec's own program and
    /// arguments when it needs no entry (neither a user to become, nor limits, nor a network of
    /// its own: a process of the platform's own, or single-user mode without limits).
    static func command(for spec: ProcessSpec, entry: ResourceLimits.Entry?, helper: String) -> (executable: String, arguments: [String]) {
        guard needsEntry(spec, entry: entry) else { return (spec.executable, spec.arguments) }
        var arguments: [String] = []
        for file in entry?.groupFiles ?? [] { arguments += ["-g", file] }
        if let kibibytes = entry?.dataLimitKiB { arguments += ["-d", String(kibibytes)] }
        if let namespace = spec.networkNamespace { arguments += ["-n", namespace] }
        if let user = spec.user { arguments += ["-u", "\(user.uid):\(user.gid)"] }
        arguments += ["-C", spec.workingDirectory, "--", spec.executable] + spec.arguments
        return (helper, arguments)
    }

    /// Where the process is spawned: `/` when the helper enters the working folder (as the tool),
    /// else the folder itself.
    static func spawnDirectory(for spec: ProcessSpec, entry: ResourceLimits.Entry?) -> String {
        needsEntry(spec, entry: entry) ? "/" : spec.workingDirectory
    }

    static func needsEntry(_ spec: ProcessSpec, entry: ResourceLimits.Entry?) -> Bool {
        spec.user != nil || entry != nil || spec.networkNamespace != nil
    }
}

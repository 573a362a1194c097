/// How an image's processes run: its folders first on `PATH`, its variables, its processes (the
/// Procfile's, or the language's default `web`), in its application folder. Written into the
/// image when it is built; read at every start of a job or webservice that names the image.
public struct ImageLaunch: Sendable, Hashable, Codable {
    public var language: BuildLanguage
    /// The runtime program the image was built with (`/usr/bin/python3.11`), when it has one.
    public var runtimeProgram: String?
    /// Folders put first on `PATH`, in order (the virtualenv's bin/, node_modules/.bin …).
    public var pathEntries: [String]
    public var environment: [String: String]
    public var processes: [Procfile.Process]
    /// The application folder (the checkout): where processes start.
    public var workingDirectory: String

    public init(
        language: BuildLanguage, runtimeProgram: String?, pathEntries: [String], environment: [String: String],
        processes: [Procfile.Process], workingDirectory: String
    ) {
        self.language = language
        self.runtimeProgram = runtimeProgram
        self.pathEntries = pathEntries
        self.environment = environment
        self.processes = processes
        self.workingDirectory = workingDirectory
    }

    /// The shell command a job's or webservice's `command` runs: a process type of the image runs
    /// that process; `launcher CMD` (the buildpacks' launcher, as Toolforge's docs write it) runs
    /// CMD; anything else runs as given, in the image's environment.
    public func shellCommand(for requested: String) -> String {
        let trimmed = requested.trimmingWhitespace()
        if let process = processes.first(where: { $0.type == trimmed }) { return process.command }
        if trimmed.hasPrefix("launcher ") {
            let rest = String(trimmed.dropFirst("launcher ".count)).trimmingWhitespace()
            return processes.first { $0.type == rest }?.command ?? rest
        }
        return trimmed
    }

    /// `PATH` for the image's processes: its own folders, then the runtime's, then the host's.
    public func path(after hostPath: String) -> String {
        var entries = pathEntries
        if let runtimeProgram, let slash = runtimeProgram.lastIndex(of: "/") {
            let folder = String(runtimeProgram[..<slash])
            if !entries.contains(folder) { entries.append(folder) }
        }
        return (entries + [hostPath]).joined(separator: ":")
    }
}

import Foundation
import KilnCore
import KilnFiles

#if canImport(Glibc)
import Glibc
#endif

/// An attempt's files in the tool's home, under `.kiln/grid/`: the wrapper script the grid runs
/// (`run-R.A.sh`), the environment it reads once (`run-R.A.env`), and the exit file it writes
/// (`run-R.A.exit`). All are the tool's and reached only through `ConfinedDirectory`, so a link
/// the tool planted there is replaced, never followed; the script and the environment are 0600.
struct GridAttemptFiles: Sendable, Hashable {
    let home: ConfinedDirectory
    /// `run-R.A`: unique to the run's attempt.
    let name: String

    static let folder = HomePath(platform: ".kiln", "grid")

    init(home: ConfinedDirectory, name: String) {
        self.home = home
        self.name = name
    }

    init(home: ConfinedDirectory, runID: Int64, attempt: Int) {
        self.init(home: home, name: "run-\(runID).\(attempt)")
    }

    init(placement: GridPlacement) {
        self.init(home: ConfinedDirectory(path: placement.home, owner: FileOwner(placement.user)), name: placement.attempt)
    }

    var wrapper: HomePath { Self.folder.appending(name + ".sh") }
    var environment: HomePath { Self.folder.appending(name + ".env") }
    var exit: HomePath { Self.folder.appending(name + ".exit") }
    /// Where the wrapper writes the exit status before renaming it to `exit`.
    var exitInProgress: HomePath { Self.folder.appending(name + ".exit.new") }

    func path(_ file: HomePath) -> String { file.absolute(in: home.path) }

    /// Writes the environment and then the wrapper (each whole, by rename), after removing what
    /// an earlier life of the same attempt left.
    func write(wrapper script: String, environment: String) throws(KilnError) {
        remove()
        try home.makeDirectory(Self.folder)
        try home.write(Array(environment.utf8), to: self.environment, mode: 0o600)
        try home.write(Array(script.utf8), to: wrapper, mode: 0o600)
    }

    /// What the wrapper wrote, when it has: the command's status (129…159: killed by that
    /// signal less 128, as a shell says). Read through the home, at most a few bytes: the tool
    /// could have put anything there.
    func readExit() -> ExitStatus? {
        guard let descriptor = try? home.openForReading(exit) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { read(descriptor.rawValue, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return Self.exitStatus(String(decoding: buffer[..<count], as: UTF8.self))
    }

    /// The status an exit file says: a number from 0 to 255; nil for anything else.
    static func exitStatus(_ text: String) -> ExitStatus? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count <= 3, let code = Int32(trimmed), (0...255).contains(code) else { return nil }
        return code > 128 && code < 160 ? .signaled(signal: code - 128) : .exited(code: code)
    }

    /// Removes the attempt's files (the names only; not the job's logs).
    func remove() {
        for file in [wrapper, environment, exit, exitInProgress] { home.removeFile(file) }
    }
}

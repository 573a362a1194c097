import Foundation

/// The `kiln` executable the tests drive: `KILN_BINARY`, else the one built beside the tests.
public enum KilnBinary {
    public static let path: String = {
        if let explicit = ProcessInfo.processInfo.environment["KILN_BINARY"] { return explicit }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("kiln").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/kiln"
        precondition(FileManager.default.isExecutableFile(atPath: fallback), "no kiln binary found: build it or set KILN_BINARY")
        return fallback
    }()
}

/// What a finished command printed and how it exited.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    public var description: String { "exit \(status)\nstdout: \(standardOutput)\nstderr: \(standardError)" }

    /// Both streams, as a terminal shows them: Toolforge's CLIs say their errors and warnings on
    /// standard output, kiln's own on standard error.
    public var messages: String { standardOutput + standardError }
}

/// Runs a program to its end, collecting its output; optionally as another Unix user.
public func runCommand(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], asUser user: String? = nil,
    timeout: Duration = .seconds(60), input: String? = nil
) throws -> CommandResult {
    let process = Process()
    if let user {
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        process.arguments = ["-u", user, "--", executable] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
    }
    var merged = ProcessInfo.processInfo.environment
    merged.removeValue(forKey: "KILN_URL")
    merged.removeValue(forKey: "KILN_TOKEN")
    for (key, value) in environment { merged[key] = value }
    process.environment = merged
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    let inputPipe = input.map { _ in Pipe() }
    process.standardInput = inputPipe ?? FileHandle.nullDevice
    try process.run()
    if let input, let inputPipe {
        inputPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inputPipe.fileHandleForWriting.close()
    }
    // Read while it runs, so a full pipe never blocks the child.
    let outputData = LockedData()
    let errorData = LockedData()
    let readers = DispatchGroup()
    for (pipe, sink) in [(output, outputData), (error, errorData)] {
        readers.enter()
        DispatchQueue.global().async {
            sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
            readers.leave()
        }
    }
    let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
    readers.wait()
    return CommandResult(
        status: process.terminationStatus,
        standardOutput: String(decoding: outputData.get(), as: UTF8.self),
        standardError: String(decoding: errorData.get(), as: UTF8.self))
}

/// Runs `kiln ARGUMENTS`.
public func kiln(
    _ arguments: String..., environment: [String: String] = [:], asUser user: String? = nil
) throws -> CommandResult {
    try runCommand(KilnBinary.path, arguments, environment: environment, asUser: user)
}

public func kiln(
    arguments: [String], environment: [String: String] = [:], asUser user: String? = nil, input: String? = nil
) throws -> CommandResult {
    try runCommand(KilnBinary.path, arguments, environment: environment, asUser: user, input: input)
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}

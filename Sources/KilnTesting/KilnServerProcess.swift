import Foundation

/// A real `kiln serve` on free loopback ports with its own temporary data directory.
public final class KilnServerProcess: @unchecked Sendable {
    public let dataDirectory: String
    public let apiPort: Int
    public let httpPort: Int
    public let httpsPort: Int
    public let extraArguments: [String]
    /// Where a grid's hosts reach the API (the API then listens on every address); nil: loopback only.
    public let gridAPIHost: String?
    private var process: Process?
    private let lock = NSLock()

    public var apiURL: String { "http://127.0.0.1:\(apiPort)" }
    public var httpURL: String { "http://127.0.0.1:\(httpPort)" }
    public var httpsURL: String { "https://127.0.0.1:\(httpsPort)" }
    public let logPath: String

    /// Starts the server and waits until its socket answers.
    public init(extraArguments: [String] = [], dataDirectory: String? = nil, gridAPIHost: String? = nil) throws {
        self.gridAPIHost = gridAPIHost
        let base = try makeTemporaryDirectory(prefix: "ks")
        self.dataDirectory = dataDirectory ?? base + "/d"
        logPath = base + "/serve.log"
        apiPort = freeLoopbackPort()
        httpPort = freeLoopbackPort()
        httpsPort = freeLoopbackPort()
        self.extraArguments = extraArguments
        try start()
    }

    public var arguments: [String] {
        [
            "serve", "--data", dataDirectory, "--api", "\(gridAPIHost == nil ? "127.0.0.1" : "0.0.0.0"):\(apiPort)",
            "--http", "127.0.0.1:\(httpPort)", "--https", "127.0.0.1:\(httpsPort)",
        ] + (gridAPIHost.map { ["--grid-api", "\($0):\(apiPort)"] } ?? []) + extraArguments
    }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: KilnBinary.path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "KILN_URL")
        environment.removeValue(forKey: "KILN_TOKEN")
        process.environment = environment
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        try waitUntilReady()
    }

    public var pid: Int32 { lock.withLock { process?.processIdentifier ?? 0 } }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    public var adminToken: String {
        (try? String(contentsOfFile: dataDirectory + "/admin.token", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard isRunning else { throw TestFailure("kiln serve exited at start:\n\(log)") }
            if FileManager.default.fileExists(atPath: dataDirectory + "/kiln.sock"),
                let result = try? kiln("whoami", "--data", dataDirectory), result.status == 0, proxyIsReady
            {
                return
            }
            usleep(50_000)
        }
        throw TestFailure("kiln serve did not become ready:\n\(log)")
    }

    /// Whether the proxy serves: its own process (the default) has said it is ready, or it runs
    /// in the server's process (`--proxy-process in-process`).
    var proxyIsReady: Bool {
        extraArguments.contains("in-process") || proxyPID != nil
    }

    /// The proxy process the server supervises, while it runs.
    public var proxyPID: Int32? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/proxy.ready", encoding: .utf8),
            let pid = text.split(separator: " ").first.flatMap({ Int32($0) }), pid > 1, kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// `kill -9` of the proxy process (the server starts another).
    public func killProxy() {
        if let pid = proxyPID { kill(pid, SIGKILL) }
    }

    /// `kill -9`, and wait (at most 10 s) for the process to be gone.
    public func kill9() {
        guard let process = lock.withLock({ self.process }) else { return }
        kill(process.processIdentifier, SIGKILL)
        Self.waitForExit(process, timeout: 10)
    }

    /// SIGTERM and wait (at most `timeout`); returns the exit status, nil if it did not exit.
    @discardableResult
    public func terminate(timeout: TimeInterval = 15) -> Int32? {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return nil }
        process.terminate()
        guard Self.waitForExit(process, timeout: timeout) else {
            kill(process.processIdentifier, SIGKILL)
            Self.waitForExit(process, timeout: 10)
            return nil
        }
        return process.terminationStatus
    }

    /// Polls rather than `waitUntilExit`, which can wait forever when Foundation misses the exit.
    @discardableResult
    static func waitForExit(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    public func restart() throws {
        kill9()
        try start()
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Self.waitForExit(process, timeout: 10)
        }
        // The proxy outlives a server that did not stop gracefully (as it should in production).
        killProxy()
        removeToolUsers()
    }

    /// Removes the Unix users this server made for its tools (those whose home is in its data
    /// directory, so a user another server shares is left alone), so that test runs do not pile
    /// users up on the machine.
    func removeToolUsers() {
        guard geteuid() == 0 else { return }
        let tools = dataDirectory + "/tools"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tools)) ?? [] {
            let user = "tools." + name
            guard let entry = getpwnam(user), String(cString: entry.pointee.pw_dir) == tools + "/" + name else { continue }
            _ = try? runCommand("/usr/bin/pkill", ["-9", "-u", user], timeout: .seconds(10))
            _ = try? runCommand("/usr/sbin/userdel", [user], timeout: .seconds(10))
        }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh directory under /tmp (short, so Unix socket paths stay under 108 bytes).
public func makeTemporaryDirectory(prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    let path = String(cString: result)
    chmod(path, 0o755)
    return path
}

/// A tool name no other test uses.
public func uniqueToolName(_ prefix: String = "t") -> String {
    prefix + String(UInt32.random(in: 0...UInt32.max), radix: 36)
}

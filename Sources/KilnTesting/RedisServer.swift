import Foundation

/// A real `redis-server` for a test: its own free loopback port and temporary directory, nothing
/// persisted. Stop it with `stop()` (a `defer` right after creating it); `kill()` is a crash.
public final class RedisServer: @unchecked Sendable {
    /// The user the test itself connects as (`cli`, readiness, shutdown) when the server has ACL
    /// users: allowed everything.
    public static let adminUser = "kilntest-admin"

    public let port: Int
    /// The URL without credentials.
    public var url: String { "redis://127.0.0.1:\(port)" }
    /// The URL as `user` (nil: the default user, as with `requirepass`) with `password`, percent-encoded.
    public func url(user: String?, password: String) -> String {
        "redis://\(user.map(Self.percentEncoded) ?? ""):\(Self.percentEncoded(password))@127.0.0.1:\(port)"
    }
    /// The admin user's password, when the server has ACL users.
    public let adminPassword: String?
    private let directory: String
    private let executable: String
    private let configuration: [String]
    // Guards `process`: a test may stop the server from another task than the one that made it.
    private let lock = NSLock()
    private var process: Process?

    /// Starts a server and returns once it answers PING.
    ///
    /// `users` are ACL rules, one user each, as redis.conf's `user` lines take them without the
    /// word `user` (`kiln-proxy on >secret ~prefix:* +hgetall`): with any, the `default` user is
    /// off, so a connection must AUTH, and the test's own connections use `adminUser`.
    /// `keyspaceEvents` is `notify-keyspace-events`: on for route changes by default, as the
    /// README tells operators to configure it.
    public init(users: [String] = [], keyspaceEvents: String = "Kgh") throws {
        guard let executable = Self.executable else {
            throw TestFailure("redis-server not found in PATH or /usr/bin (apt-get install -y redis-server)")
        }
        self.executable = executable
        var configuration = ["--notify-keyspace-events", keyspaceEvents]
        if users.isEmpty {
            adminPassword = nil
        } else {
            let password = "admin-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            adminPassword = password
            // Each rule as separate arguments: redis-server quotes each into one config token.
            for rule in ["default off", "\(Self.adminUser) on >\(password) ~* &* +@all"] + users {
                configuration += ["--user"] + rule.split(separator: " ").map(String.init)
            }
        }
        self.configuration = configuration
        directory = try makeTemporaryDirectory(prefix: "kr")
        // A free port can be taken by someone else before redis-server binds it: try another.
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = freeLoopbackPort()
            do {
                let process = try Self.launch(
                    executable, port: port, directory: directory, configuration: configuration, hello: Self.hello(adminPassword))
                self.port = port
                self.process = process
                return
            } catch {
                lastError = error
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastError ?? TestFailure("redis-server did not start")
    }

    /// `redis-server` from PATH, else the Debian package's.
    public static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/redis-server" } + ["/usr/bin/redis-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Starts it again on the same port (after `stop()` or `kill()`); nothing if it runs.
    public func start() throws {
        guard !isRunning else { return }
        let process = try Self.launch(
            executable, port: port, directory: directory, configuration: configuration, hello: Self.hello(adminPassword))
        lock.withLock { self.process = process }
    }

    /// SIGTERM, and waits for it to exit (SIGKILL if it has not within 5 s).
    ///
    /// A child started by Foundation's `Process` inherits the starting thread's signal mask, and
    /// the test runtime's threads block SIGTERM, so the signal may stay pending forever; the
    /// server is therefore also asked to stop in its own protocol (SHUTDOWN NOSAVE).
    public func stop() {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGTERM)
        _ = try? rawExchange(port: port, Array((Self.hello(adminPassword) + "SHUTDOWN NOSAVE\r\n").utf8), timeout: 1)
        if !Self.waitForExit(process, timeout: 5) { kill() }
    }

    /// SIGKILL, as a crash: clients see their connections reset.
    public func kill() {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        _ = Self.waitForExit(process, timeout: 10)
    }

    /// Stops it and starts it again on the same port, with an empty dataset.
    public func restart() throws {
        stop()
        try start()
    }

    /// Runs `redis-cli ARGUMENTS` against this server (as older tooling writes routes) and
    /// returns what it printed.
    @discardableResult
    public func cli(_ arguments: String...) throws -> String {
        let cli = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("redis-cli").path
        var connection = ["-h", "127.0.0.1", "-p", String(port)]
        if let adminPassword { connection += ["--user", Self.adminUser, "--pass", adminPassword, "--no-auth-warning"] }
        let result = try runCommand(cli, connection + arguments, timeout: .seconds(10))
        guard result.status == 0 else { throw TestFailure("redis-cli \(arguments.joined(separator: " ")): \(result)") }
        return result.standardOutput
    }

    /// Polls rather than `waitUntilExit()`, which spins a run loop and never gives up.
    private static func waitForExit(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { return false }
            usleep(2_000)
        }
        return true
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts redis-server and waits until this very process answers (not another server that
    /// took the port first).
    /// What the test's own raw connections send first: AUTH as the admin, when there are users.
    private static func hello(_ adminPassword: String?) -> String {
        adminPassword.map { "AUTH \(adminUser) \($0)\r\n" } ?? ""
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    private static func launch(
        _ executable: String, port: Int, directory: String, configuration: [String], hello: String
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", directory, "--logfile", directory + "/redis.log",
        ] + configuration
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline {
            let probe = try? rawExchange(port: port, Array((hello + "PING\r\nINFO server\r\nQUIT\r\n").utf8), timeout: 1)
            if let response = probe?.response, response.hasPrefix(hello.isEmpty ? "+PONG" : "+OK\r\n+PONG"),
                response.contains("process_id:\(process.processIdentifier)\r\n")
            {
                return process
            }
            usleep(5_000)
        }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        _ = waitForExit(process, timeout: 10)
        let log = (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
        throw TestFailure("redis-server on port \(port) did not answer PING; its log ends:\n\(log.suffix(1000))")
    }
}

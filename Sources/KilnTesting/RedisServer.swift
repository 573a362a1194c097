import Foundation

/// A real `redis-server` on a free loopback port, with nothing persisted.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    private let directory: String
    private var process: Process?
    private let lock = NSLock()

    public var url: String { "redis://127.0.0.1:\(port)" }

    public init() throws {
        port = freeLoopbackPort()
        directory = try makeTemporaryDirectory(prefix: "kr")
        try start()
    }

    public static var executable: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public func start() throws {
        guard let executable = Self.executable else { throw TestFailure("redis-server is not installed (scripts/install-test-deps)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", directory, "--logfile", directory + "/redis.log",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let reply = try? rawExchange(port: port, Array("PING\r\nQUIT\r\n".utf8), timeout: 1), reply.response.hasPrefix("+PONG") {
                return
            }
            usleep(20_000)
        }
        throw TestFailure("redis-server did not answer on port \(port)")
    }

    /// Runs `redis-cli ARGUMENTS` against this server, as older tooling would write routes.
    @discardableResult
    public func cli(_ arguments: String...) throws -> String {
        let result = try runCommand("/usr/bin/redis-cli", ["-p", String(port)] + arguments)
        guard result.status == 0 else { throw TestFailure("redis-cli \(arguments): \(result)") }
        return result.standardOutput
    }

    /// SIGKILL: gone at once, as a crash.
    public func kill() {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public func restart() throws {
        kill()
        try start()
    }

    deinit { kill() }
}

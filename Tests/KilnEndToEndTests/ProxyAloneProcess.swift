import Foundation
import KilnTesting

/// A `kiln proxy` process that can be killed with SIGKILL and started again on the same port and
/// data directory, as an operator's service manager would restart it.
final class ProxyAloneProcess: @unchecked Sendable {
    /// Where the proxy's routes come from.
    enum Source: Sendable, CustomStringConvertible {
        /// A control plane's route feed over its TCP API, with the admin token in a file.
        case controlPlane(api: String, tokenFile: String)
        /// The route hashes in Redis.
        case redis(url: String)

        var arguments: [String] {
            switch self {
            case .controlPlane(let api, let tokenFile): ["--control-plane", api, "--token-file", tokenFile]
            case .redis(let url): ["--routes", url]
            }
        }

        var description: String {
            switch self {
            case .controlPlane: "the control plane's feed"
            case .redis: "Redis"
            }
        }
    }

    let source: Source
    let name: String
    let httpPort = freeLoopbackPort()
    let directory: String
    private let lock = NSLock()
    private var process: Process?

    init(name: String, source: Source) throws {
        self.name = name
        self.source = source
        directory = try makeTemporaryDirectory(prefix: "kpa")
    }

    var url: String { "http://127.0.0.1:\(httpPort)" }
    var logPath: String { directory + "/proxy.log" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var pid: Int32? { lock.withLock { process.map(\.processIdentifier) } }

    /// Starts it (its log appended to), without waiting for it to serve.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: KilnBinary.path)
        // One client address under load: no per-address rate limit, as bench/proxy.sh runs it.
        process.arguments = ["proxy"] + source.arguments + [
            "--http", "127.0.0.1:\(httpPort)", "--https", "off", "--allow-http", "--data", directory + "/data",
            "--rate-limit", "0", "--max-connections-per-address", "0", "--routes-resync", "2",
        ]
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
    }

    /// SIGKILL, and waits until it is gone: a crash (and the only signal sure to land, since children
    /// of the test process inherit its blocked signals).
    func kill9() {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(2_000) }
    }

    /// The status of `GET path` on a fresh connection; nil when nothing answers (not listening).
    func status(_ path: String, timeout: TimeInterval = 2) -> Int? {
        let request = "GET \(path) HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nConnection: close\r\n\r\n"
        guard let reply = try? rawExchange(port: httpPort, Array(request.utf8), timeout: timeout), reply.response.hasPrefix("HTTP/1.1 ")
        else { return nil }
        return Int(reply.response.dropFirst("HTTP/1.1 ".count).prefix(3))
    }

    deinit { kill9() }
}

import Foundation
import KilnTesting

/// The Python test backend (Fixtures/backend.py) on a free port.
final class BackendProcess: @unchecked Sendable {
    let port: Int
    let name: String
    private let process = Process()

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    init(name: String = "backend") throws {
        port = freeLoopbackPort()
        self.name = name
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.fixtures + "/backend.py", String(port), name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? rawExchange(port: port, Array("GET /x/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), timeout: 1))?.response
                .hasPrefix("HTTP/1.1 200") == true
            {
                return
            }
            usleep(50_000)
        }
        throw TestFailure("the test backend did not start")
    }

    var address: String { "127.0.0.1:\(port)" }

    /// SIGKILL: children of the test process inherit its blocked signals, so TERM may never land.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// A server with one tool routed to a backend, for proxy tests.
struct ProxyFixture {
    let server: KilnServerProcess
    let backend: BackendProcess
    let tool: String

    init(serverArguments: [String] = ["--allow-http"]) throws {
        server = try KilnServerProcess(extraArguments: serverArguments)
        backend = try BackendProcess(name: "b1")
        tool = uniqueToolName("p")
        let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
        guard created.status == 0 else { throw TestFailure("\(created)") }
        let routed = try kiln("routes", "add", "--data", server.dataDirectory, "--tool", tool, ".*", backend.address)
        guard routed.status == 0 else { throw TestFailure("\(routed)") }
    }

    func stop() {
        backend.stop()
        server.terminate()
    }

    /// The RSS of the server process, in bytes.
    var serverRSS: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(server.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
}

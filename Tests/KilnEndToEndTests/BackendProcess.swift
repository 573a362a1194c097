import Foundation
import KilnTesting

/// The Python test backend (Fixtures/backend.py) on a free port.
final class BackendProcess: @unchecked Sendable {
    let port: Int
    let name: String
    private let process = Process()

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// With `tool` (and the tests run as root), it runs as the tool's Unix user, as a tool's own
    /// server does: a tool's route reaches only a listener of the tool's own.
    init(name: String = "backend", tool: String? = nil, script: String = "backend.py") throws {
        port = freeLoopbackPort()
        self.name = name
        let program = ["/usr/bin/python3", Self.fixtures + "/" + script, String(port), name]
        if let tool, geteuid() == 0, let entry = getpwnam("tools." + tool) {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(entry.pointee.pw_uid)", "--regid=\(entry.pointee.pw_gid)", "--clear-groups", "--"] + program
        } else {
            process.executableURL = URL(fileURLWithPath: program[0])
            process.arguments = Array(program.dropFirst())
        }
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
        tool = uniqueToolName("p")
        let created = try kiln("tools", "create", tool, "--data", server.dataDirectory)
        guard created.status == 0 else { throw TestFailure("\(created)") }
        backend = try BackendProcess(name: "b1", tool: tool)
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

import Foundation
import KilnCore
import KilnSocketOwners

/// A TCP listener of another user (started through `setpriv` as `uid`, tests run as root) that
/// answers every HTTP request with `body`: a tool's server, or a squatter on someone else's port.
public final class ForeignListener: @unchecked Sendable {
    public let uid: UInt32
    public let host: String
    public let port: Int
    private let process = Process()

    private static let script = """
        import os, socket, sys
        host, port, body, accepting_uid = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
        listener = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(64)
        if accepting_uid >= 0:
            os.setgroups([])
            os.setgid(accepting_uid)
            os.setuid(accepting_uid)
        while True:
            connection, _ = listener.accept()
            try:
                connection.settimeout(5)
                data = b''
                while b'\\r\\n\\r\\n' not in data:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    connection.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s' % (len(body), body))
            except OSError:
                pass
            connection.close()
        """

    /// Starts the listener at `host:port` (a free loopback port unless given). With `acceptingAs`,
    /// the listener is bound as `uid` and its connections accepted as `acceptingAs`, as a server
    /// that drops privileges after binding does.
    public init(uid: UInt32, host: String = "127.0.0.1", port: Int? = nil, body: String = "foreign", acceptingAs: UInt32? = nil) throws {
        self.uid = uid
        self.host = host
        self.port = port ?? freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = [
            "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/usr/bin/python3", "-c", Self.script, host, String(self.port), body,
            acceptingAs.map { String($0) } ?? "-1",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Waits (asynchronously) until the kernel says this user listens at the address (not just
    /// anyone: the port may still be another's); throws after `timeout`.
    public func waitUntilListening(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        let listenHost = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        guard let endpoint = LoopbackEndpoint(HostPort(host: listenHost, port: port)) else {
            throw TestFailure("\(host):\(port) is not a loopback address")
        }
        let lookup = SocketOwnerLookup()
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw TestFailure("the listener of uid \(uid) at \(host):\(port) exited") }
            if lookup.listenerOwner(of: endpoint) == .owned(uid: uid) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("the listener of uid \(uid) at \(host):\(port) did not start")
    }

    /// SIGKILL, and waits for the exit, so the port is free when this returns.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

import Foundation

/// HTTP through curl: the real client users have, for TLS and HTTP/2 too.
public struct CurlResponse: Sendable {
    public var status: Int
    public var httpVersion: String
    public var body: String
    public var headers: String
}

public func curl(_ arguments: [String], timeout: Duration = .seconds(30)) throws -> CurlResponse {
    let directory = try makeTemporaryDirectory(prefix: "kc")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let result = try runCommand(
        "/usr/bin/curl",
        ["-s", "-k", "-o", directory + "/body", "-D", directory + "/headers", "-w", "%{http_code} %{http_version}", "--max-time", "\(timeout.components.seconds)"]
            + arguments,
        timeout: timeout + .seconds(5))
    let parts = result.standardOutput.split(separator: " ")
    return CurlResponse(
        status: parts.first.flatMap { Int($0) } ?? 0,
        httpVersion: parts.count > 1 ? String(parts[1]) : "",
        body: (try? String(contentsOfFile: directory + "/body", encoding: .utf8)) ?? "",
        headers: (try? String(contentsOfFile: directory + "/headers", encoding: .utf8)) ?? "")
}

/// Sends raw bytes on a fresh TCP connection and reads until the peer closes or `timeout` passes.
public func rawExchange(port: Int, _ bytes: [UInt8], timeout: TimeInterval = 5) throws -> (response: String, peerClosed: Bool) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestFailure("connect to \(port) failed") }
    var timeval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
    // A peer that stops reading must not hold the test in send().
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    var peerClosed = false
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count > 0 {
            received.append(contentsOf: buffer[0..<count])
        } else {
            // A close with unread bytes arrives as a reset: closed all the same.
            peerClosed = count == 0 || errno == ECONNRESET
            break
        }
    }
    return (String(decoding: received, as: UTF8.self), peerClosed)
}

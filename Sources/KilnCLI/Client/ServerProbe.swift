import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One connect(2) to the server's socket or port, to report an absent server immediately.
enum ServerProbe {
    static func check(_ endpoint: APIClient.Endpoint, describe: String) throws {
        let reachable: Bool
        switch endpoint {
        case .unixSocket(let path):
            reachable = connectUnix(path)
        case .url(let text):
            guard let url = URL(string: text), let host = url.host else {
                throw CLIError.user("KILN_URL '\(text)' is not a URL like http://HOST:PORT")
            }
            reachable = connectTCP(host: host, port: url.port ?? (url.scheme == "https" ? 443 : 80))
        }
        guard reachable else {
            throw CLIError.unreachable("cannot reach the Kiln server at \(describe): is `kiln serve` running?")
        }
    }

    static func connectUnix(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    static func connectTCP(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else { return false }
        defer { freeaddrinfo(results) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            let fd = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
            if fd >= 0 {
                defer { close(fd) }
                if connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { return true }
            }
            entry = current.pointee.ai_next
        }
        return false
    }
}

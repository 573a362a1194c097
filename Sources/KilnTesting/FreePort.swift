#if canImport(Glibc)
import Glibc
#endif

/// A TCP port on 127.0.0.1 that nothing listens on right now, below the kernel's ephemeral range
/// (32768 and up on Linux): a port picked there could be taken meanwhile as the source port of
/// one of the many connections a test run makes. Another process could still bind it before the
/// caller does; tests accept that small window.
public func freeLoopbackPort() -> Int {
    for _ in 0..<1000 {
        let port = Int.random(in: 10_000..<32_000)
        if isBindable(port) { return port }
    }
    preconditionFailure("no free loopback port below 32000")
}

private func isBindable(_ port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

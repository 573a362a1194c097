import KilnRunner

/// A TCP port on 127.0.0.1 that nothing listens on right now (the runner's own allocator).
/// Another process could take it before the caller binds it; tests accept that small window.
public func freeLoopbackPort() -> Int {
    do {
        return try PortAllocator.freeLoopbackPort()
    } catch {
        preconditionFailure("no free loopback port: \(error)")
    }
}

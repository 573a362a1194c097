import CKilnSystem
import KilnCore
import KilnProxy
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The proxy's listening sockets as its supervisor holds them, handed to every proxy process it
/// starts (`InheritedListeners`). Because the supervisor keeps them open, a killed proxy loses
/// only the connections it had accepted: new ones wait in the backlog until its replacement
/// accepts them, and during a reload both proxies take from one queue.
final class ProxyListeners: Sendable {
    struct Listener: Sendable {
        var name: String
        var descriptor: Int32
    }

    /// In the order they are handed over: descriptor 3, 4, ….
    let listeners: [Listener]

    private init(listeners: [Listener]) {
        self.listeners = listeners
    }

    deinit {
        for listener in listeners { Glibc.close(listener.descriptor) }
    }

    /// The proxy's addresses by listener name, in the order they are handed over.
    static func addresses(of configuration: ProxyConfiguration) -> [(name: String, address: HostPort)] {
        [("http", configuration.http), ("https", configuration.https)].compactMap { name, address in address.map { (name, $0) } }
    }

    /// What a proxy started with these sees: the listeners at 3, 4, … by name.
    var inherited: InheritedListeners {
        InheritedListeners(
            descriptors: Dictionary(uniqueKeysWithValues: listeners.enumerated().map { ($0.element.name, Int32(3 + $0.offset)) }))
    }

    /// New sockets bound to the addresses, not yet listening: the first proxy given them listens.
    /// `SO_REUSEPORT`, so that they can join a proxy still listening from before (one adopted
    /// after a restart whose sockets could not be copied).
    static func bind(_ addresses: [(name: String, address: HostPort)]) throws -> ProxyListeners {
        var listeners: [Listener] = []
        do {
            for (name, address) in addresses {
                let resolved = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
                let descriptor = socket(Int32(resolved.protocol.rawValue), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard descriptor >= 0 else { throw KilnError(.internalError, "cannot make a socket for \(address): \(String(cString: strerror(errno)))") }
                listeners.append(Listener(name: name, descriptor: descriptor))
                var one: Int32 = 1
                setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(descriptor, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
                let bound = resolved.withSockAddr { pointer, length in Glibc.bind(descriptor, pointer, socklen_t(length)) }
                guard bound == 0 else {
                    throw KilnError(.invalidAddress, "the proxy cannot listen on \(address): \(String(cString: strerror(errno)))", context: ["address": "\(address)"])
                }
            }
        } catch {
            for listener in listeners { Glibc.close(listener.descriptor) }
            throw error
        }
        return ProxyListeners(listeners: listeners)
    }

    /// Copies of the listeners a running proxy was handed (a supervisor restarted while its
    /// proxy went on serving), checked to be listening sockets on the expected ports; nil if the
    /// system does not allow the copy.
    static func copy(from pid: Int32, _ addresses: [(name: String, address: HostPort)], logger: Logger) -> ProxyListeners? {
        var listeners: [Listener] = []
        for (offset, (name, address)) in addresses.enumerated() {
            let descriptor = ckiln_copy_descriptor(pid, Int32(3 + offset))
            guard descriptor >= 0 else {
                logger.notice(
                    "proxy: cannot take over the listening sockets of the proxy serving; new ones join it",
                    metadata: ["pid": "\(pid)", "error": "\(String(cString: strerror(errno)))"])
                for listener in listeners { Glibc.close(listener.descriptor) }
                return nil
            }
            listeners.append(Listener(name: name, descriptor: descriptor))
            guard isListening(descriptor, port: address.port) else {
                logger.notice("proxy: the proxy serving does not listen where it is configured to; new sockets", metadata: ["pid": "\(pid)"])
                for listener in listeners { Glibc.close(listener.descriptor) }
                return nil
            }
        }
        return ProxyListeners(listeners: listeners)
    }

    /// Whether `descriptor` is a listening stream socket on `port` (any port when 0).
    static func isListening(_ descriptor: Int32, port: Int) -> Bool {
        guard InheritedListeners.isStreamSocket(descriptor) else { return false }
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1 else { return false }
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &size) }
        }
        guard named == 0 else { return false }
        let bound: Int
        switch Int32(storage.ss_family) {
        case AF_INET:
            bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        case AF_INET6:
            bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        default:
            return false
        }
        return port == 0 || bound == port
    }
}

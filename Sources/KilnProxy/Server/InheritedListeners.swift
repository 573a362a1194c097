import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Listening sockets a proxy is handed rather than binds itself: its supervisor holds them, so
/// they outlive any one proxy process. Connections that arrive while no proxy runs (one was
/// killed, its replacement starts) wait in the socket's backlog instead of being refused, and a
/// replacement accepts from the very queue the old proxy stops taking from.
///
/// Handed over as `KILN_PROXY_LISTENERS=http:3,https:4`: a listener's name and its descriptor.
public struct InheritedListeners: Sendable, Equatable {
    /// The environment variable that names them.
    public static let environmentName = "KILN_PROXY_LISTENERS"

    /// The listener's descriptor by name (`http`, `https`).
    public var descriptors: [String: Int32]

    public init(descriptors: [String: Int32] = [:]) {
        self.descriptors = descriptors
    }

    /// The environment variable's value for these listeners.
    public var environmentValue: String {
        descriptors.sorted { $0.value < $1.value }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }

    /// Reads the variable's value, and checks that every descriptor is a stream socket of this
    /// process's (a wrong number must not become a channel over some other file).
    public init(environmentValue text: String) throws(KilnError) {
        func invalid(_ why: String) -> KilnError {
            KilnError(.badRequest, "\(Self.environmentName)='\(text)': \(why)", context: ["value": text])
        }
        var descriptors: [String: Int32] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, ["http", "https"].contains(parts[0]) else { throw invalid("'\(entry)' is not http:FD or https:FD") }
            guard let descriptor = Int32(parts[1]), descriptor >= 3 else { throw invalid("'\(parts[1])' is not a descriptor above 2") }
            guard descriptors.updateValue(descriptor, forKey: String(parts[0])) == nil else { throw invalid("\(parts[0]) twice") }
            guard Self.isStreamSocket(descriptor) else { throw invalid("descriptor \(descriptor) is not a stream socket") }
        }
        guard Set(descriptors.values).count == descriptors.count else { throw invalid("one descriptor for two listeners") }
        self.descriptors = descriptors
    }

    /// Whether `descriptor` is open and a TCP-style socket.
    public static func isStreamSocket(_ descriptor: Int32) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFSOCK else { return false }
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else { return false }
        return type == Int32(SOCK_STREAM.rawValue)
    }
}

/// How a process ended, as status and the store report it.
public enum ExitStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    case exited(code: Int32)
    case signaled(signal: Int32)
    /// The kernel killed it (SIGKILL) for going over its memory limit.
    case outOfMemory(limit: MemorySize)
    /// It never ran: the program was missing, not executable, or refused to start.
    case couldNotStart(reason: String)
    /// It ran but never answered its health check in time, and was stopped.
    case unhealthy(reason: String)
    /// It ended while the platform was not its parent (it was adopted after a restart of the
    /// platform), so how is not known.
    case unknown

    public var isSuccess: Bool { self == .exited(code: 0) }

    /// The exit code a shell would report: the code, or 128 + the signal.
    public var code: Int32? {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        case .outOfMemory: 128 + 9
        case .couldNotStart, .unhealthy, .unknown: nil
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "killed by signal \(signal)\(Self.signalNames[signal].map { " (\($0))" } ?? "")"
        case .outOfMemory(let limit): "killed by the kernel for using more than its memory limit (\(limit))"
        case .couldNotStart(let reason): "could not start: \(reason)"
        case .unhealthy(let reason): "unhealthy: \(reason)"
        case .unknown: "ended (how is not known: it had been started before the platform restarted)"
        }
    }

    static let signalNames: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM", 24: "SIGXCPU",
    ]
}

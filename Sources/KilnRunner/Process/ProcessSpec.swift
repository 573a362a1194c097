import KilnCore
import KilnFiles

/// Where a process's output stream goes.
public enum OutputDestination: Sendable, Hashable {
    case discard
    /// Appended to a file in a tool's home (created, the tool's, when missing).
    case file(ConfinedDirectory, HomePath)

    /// The file on the host, for messages and tests; nil when discarded.
    public var hostPath: String? {
        switch self {
        case .discard: nil
        case .file(let directory, let path): path.absolute(in: directory.path)
        }
    }
}

/// What to run for a tool and how: as which user, where, with what environment, logging where.
public struct ProcessSpec: Sendable, Hashable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    /// Run as this user (when the platform runs as root); nil runs as the platform's own user.
    public var user: UnixIdentity?
    public var standardOutput: OutputDestination
    public var standardError: OutputDestination
    /// How long a stop waits after SIGTERM to the process group before SIGKILL.
    public var stopGracePeriod: Duration
    /// Memory, CPU and process limits; nil runs the program without any.
    public var limits: ResourceLimits?
    /// A network namespace of its own to run in (`ReplicaNetwork.namespacePath`); nil: the host's.
    public var networkNamespace: String?
    public init(
        executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
        user: UnixIdentity?, standardOutput: OutputDestination, standardError: OutputDestination, stopGracePeriod: Duration = .seconds(5),
        limits: ResourceLimits? = nil
    ) {
        self.limits = limits
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.stopGracePeriod = stopGracePeriod
    }
}

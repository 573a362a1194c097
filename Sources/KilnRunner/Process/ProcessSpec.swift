import KilnCore

/// What to run for a tool and how: as which user, where, with what environment, logging where.
public struct ProcessSpec: Sendable, Hashable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    /// Run as this user (when the platform runs as root); nil runs as the platform's own user.
    public var user: UnixIdentity?
    public var standardOutputPath: String
    public var standardErrorPath: String
    /// How long a stop waits after SIGTERM to the process group before SIGKILL.
    public var stopGracePeriod: Duration
    /// Memory and CPU limits; nil runs the program without any.
    public var limits: ResourceLimits?

    public init(
        executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
        user: UnixIdentity?, standardOutputPath: String, standardErrorPath: String, stopGracePeriod: Duration = .seconds(5),
        limits: ResourceLimits? = nil
    ) {
        self.limits = limits
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.standardOutputPath = standardOutputPath
        self.standardErrorPath = standardErrorPath
        self.stopGracePeriod = stopGracePeriod
    }
}

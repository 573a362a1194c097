/// What a tool declared for its webservice: the platform keeps this running until it is stopped.
public struct WebserviceSpec: Sendable, Hashable, Codable {
    public var type: WebserviceType
    /// The program of a webservice that runs the tool's own server (run by `/bin/sh -c`, before
    /// the extra arguments); nil for the types that start a server of their own.
    public var command: String?
    public var replicas: Int
    public var memory: MemorySize
    public var cpu: CPUQuantity
    /// The path the runner asks before registering a replica, and that must answer for it to count as up.
    public var healthCheckPath: String
    /// Passed to the server after the platform's own arguments (gunicorn's, lighttpd's…).
    public var extraArguments: [String]
    /// A `buildservice` webservice's image (`buildservice-image`); nil is the tool's default,
    /// `tool-TOOL/TOOL:latest`.
    public var image: String?

    public static let defaultMemory = MemorySize(bytes: 512 << 20)
    public static let defaultCPU = CPUQuantity(millicores: 500)
    public static let maximumReplicas = 16

    public init(
        type: WebserviceType, command: String? = nil, replicas: Int = 1, memory: MemorySize = Self.defaultMemory,
        cpu: CPUQuantity = Self.defaultCPU, healthCheckPath: String = "/", extraArguments: [String] = [], image: String? = nil
    ) throws(KilnError) {
        self.image = image
        self.type = type
        self.command = command
        self.replicas = replicas
        self.memory = memory
        self.cpu = cpu
        self.healthCheckPath = healthCheckPath
        self.extraArguments = extraArguments
        try validate()
    }

    /// The rules every declaration meets, whichever way it came (flags, service.template, the API).
    public func validate() throws(KilnError) {
        func invalid(_ field: String, _ message: String) -> KilnError {
            KilnError(.invalidWebservice, message, context: ["field": field])
        }
        guard (1...Self.maximumReplicas).contains(replicas) else {
            throw invalid("replicas", "replicas must be from 1 to \(Self.maximumReplicas), not \(replicas)")
        }
        guard memory.bytes >= 16 << 20 else { throw invalid("mem", "mem must be at least 16Mi, not \(memory)") }
        guard healthCheckPath.hasPrefix("/"), !healthCheckPath.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw invalid("health-check-path", "health-check-path must be a path starting with /, not '\(healthCheckPath)'")
        }
        switch type.family {
        case .command:
            let hasCommand = !(command ?? "").trimmingWhitespace().isEmpty || !extraArguments.isEmpty
            guard hasCommand || !type.needsCommand else {
                throw invalid(
                    "command",
                    "a \(type.name) webservice runs the tool's own server: give its command as extra arguments (kiln webservice \(type.name) start -- PROGRAM ARGS, or extra_args in service.template) or --command; it must listen on $PORT")
            }
        case .python, .php, .node, .lighttpdPlain, .uwsgiPlain, .staticFiles:
            guard command == nil else {
                throw invalid("command", "--command is for types that run the tool's own server (generic, jdk, golang…); \(type.name) starts its own")
            }
        case .buildservice:
            if let image { _ = try BuiltImageName(parsing: image) }
        }
        if type.family != .buildservice, image != nil {
            throw invalid("buildservice-image", "buildservice-image goes only with the buildservice type, not \(type.name)")
        }
    }
}

extension WebserviceSpec {
    /// The image a `buildservice` webservice of `tool`'s runs: its `buildservice-image`, or
    /// `tool-TOOL/TOOL:latest`.
    public func builtImage(of tool: ToolName) throws(KilnError) -> BuiltImageName {
        guard let image else { return try BuiltImageName(tool: tool, name: tool.rawValue) }
        return try BuiltImageName(parsing: image)
    }
}

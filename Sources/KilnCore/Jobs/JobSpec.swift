import Foundation

/// What a tool declared for one job, as `kiln jobs run` flags or a `jobs.yaml` entry say it
/// (Toolforge's keys and meanings): the desired state the job runner brings about.
public struct JobSpec: Sendable, Hashable, Codable {
    public enum Emails: String, Sendable, Hashable, Codable, CaseIterable {
        case none, all, onfinish, onfailure
    }

    public enum Mount: String, Sendable, Hashable, Codable, CaseIterable {
        case all, none

        /// Without `mount`: `none` for an image the tool built (as on Toolforge), else `all`.
        public static func `default`(for image: String) -> Mount { BuiltImageName.isBuiltImage(image) ? .none : .all }
    }

    /// A port's protocol, as Toolforge's `--port 8080/udp` says it.
    public enum PortProtocol: String, Sendable, Hashable, Codable, CaseIterable {
        case tcp, udp
    }

    /// Toolforge's three job types, by the words its output uses.
    public enum Kind: String, Sendable, Hashable, Codable {
        case normal, schedule, continuous
    }

    public var name: String
    public var command: String
    public var image: String
    /// A cron expression (`CronSchedule`) as written; nil for one-off and continuous jobs.
    public var schedule: String?
    /// The time zone the schedule is read in (an IANA name such as Europe/Berlin); nil is UTC.
    public var timeZone: String?
    public var continuous: Bool
    public var retry: Int
    public var emails: Emails
    public var memory: MemorySize?
    public var cpu: CPUQuantity?
    /// Output goes to files in the tool's home (Toolforge's default), else it is discarded.
    public var filelog: Bool
    public var filelogStdout: String?
    public var filelogStderr: String?
    public var mount: Mount
    /// Seconds a one-off or scheduled run may take; nil for the class default (20 minutes).
    public var timeout: Int?
    /// Continuous jobs only.
    public var port: Int?
    /// Toolforge's `--port N/udp`; only tcp can be served here (the port relay carries streams).
    public var portProtocol: PortProtocol
    public var replicas: Int?
    public var healthCheckScript: String?
    /// The path a GET of which answers 2xx or 3xx while the replica is healthy (`--health-check-http`).
    public var healthCheckHTTP: String?

    public static let maximumRetry = 5
    public static let maximumTimeout = 24 * 3600
    public static let defaultTimeout = 20 * 60
    /// A continuous job's `--port`, as Toolforge takes it (the relay listens at the job's own address).
    public static let validPorts = JobPort.validNumbers
    public static let maximumReplicas = 16

    public init(
        name: String, command: String, image: String, schedule: String? = nil, continuous: Bool = false, retry: Int = 0,
        emails: Emails = .none, memory: MemorySize? = nil, cpu: CPUQuantity? = nil, filelog: Bool = true,
        filelogStdout: String? = nil, filelogStderr: String? = nil, mount: Mount = .all, timeout: Int? = nil,
        port: Int? = nil, replicas: Int? = nil, healthCheckScript: String? = nil, timeZone: String? = nil,
        portProtocol: PortProtocol = .tcp, healthCheckHTTP: String? = nil
    ) {
        self.portProtocol = portProtocol
        self.healthCheckHTTP = healthCheckHTTP
        self.timeZone = timeZone
        self.name = name
        self.command = command
        self.image = image
        self.schedule = schedule
        self.continuous = continuous
        self.retry = retry
        self.emails = emails
        self.memory = memory
        self.cpu = cpu
        self.filelog = filelog
        self.filelogStdout = filelogStdout
        self.filelogStderr = filelogStderr
        self.mount = mount
        self.timeout = timeout
        self.port = port
        self.replicas = replicas
        self.healthCheckScript = healthCheckScript
    }

    enum CodingKeys: String, CodingKey {
        case name, command, image, schedule, continuous, retry, emails, memory, cpu, filelog, filelogStdout, filelogStderr,
            mount, timeout, port, replicas, healthCheckScript, timeZone, portProtocol
        // So that the API's snake_case (`health_check_http`) reads back: Foundation makes it `healthCheckHttp`.
        case healthCheckHTTP = "healthCheckHttp"
    }

    /// Fields left out take their defaults, as `jobs run` flags and jobs.yaml keys do.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name), command: try container.decode(String.self, forKey: .command),
            image: try container.decode(String.self, forKey: .image),
            schedule: try container.decodeIfPresent(String.self, forKey: .schedule),
            continuous: try container.decodeIfPresent(Bool.self, forKey: .continuous) ?? false,
            retry: try container.decodeWholeNumberIfPresent(Int.self, forKey: .retry) ?? 0,
            emails: try container.decodeIfPresent(Emails.self, forKey: .emails) ?? .none,
            memory: try container.decodeIfPresent(MemorySize.self, forKey: .memory),
            cpu: try container.decodeIfPresent(CPUQuantity.self, forKey: .cpu),
            filelog: try container.decodeIfPresent(Bool.self, forKey: .filelog) ?? true,
            filelogStdout: try container.decodeIfPresent(String.self, forKey: .filelogStdout),
            filelogStderr: try container.decodeIfPresent(String.self, forKey: .filelogStderr),
            mount: try container.decodeIfPresent(Mount.self, forKey: .mount) ?? .default(for: container.decode(String.self, forKey: .image)),
            timeout: try container.decodeWholeNumberIfPresent(Int.self, forKey: .timeout),
            port: try container.decodeWholeNumberIfPresent(Int.self, forKey: .port),
            replicas: try container.decodeWholeNumberIfPresent(Int.self, forKey: .replicas),
            healthCheckScript: try container.decodeIfPresent(String.self, forKey: .healthCheckScript),
            timeZone: try container.decodeIfPresent(String.self, forKey: .timeZone),
            portProtocol: try container.decodeIfPresent(PortProtocol.self, forKey: .portProtocol) ?? .tcp,
            healthCheckHTTP: try container.decodeIfPresent(String.self, forKey: .healthCheckHTTP))
        // A request body is refused for a number out of range as it is decoded, before anything adds
        // it up; the error names the field as the JSON does ("memory", not jobs.yaml's "mem").
        guard !decoder.readsStoredRecords else { return }
        do {
            try checkNumbers()
        } catch {
            var error = error
            let name = error.context["field"] == "mem" ? CodingKeys.memory.stringValue : error.context["field"]
            let path = decoder.codingPath.fieldPath
            error.context["field"] = name.map { path.isEmpty ? $0 : path + "." + $0 }
            throw error
        }
    }

    /// The zone the schedule is read in.
    public var scheduleTimeZone: TimeZone { timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")! }

    public var kind: Kind { continuous ? .continuous : schedule != nil ? .schedule : .normal }

    /// Checks what no single field can: the combinations. Each error names its field (`context["field"]`),
    /// as `jobs.yaml` and the CLI report them.
    public func validate() throws(KilnError) {
        func invalid(_ field: String, _ message: String) -> KilnError {
            KilnError(.badRequest, message, context: ["field": field, "job": name])
        }
        try JobName.validate(name)
        try checkNumbers()
        guard !command.trimmingWhitespace().isEmpty else { throw invalid("command", "the command is empty") }
        guard !image.trimmingWhitespace().isEmpty else { throw invalid("image", "no image given") }
        if schedule != nil && continuous { throw invalid("schedule", "a job is either scheduled or continuous, not both") }
        if let schedule {
            do { _ = try CronSchedule(parsing: schedule) } catch { throw invalid("schedule", error.message) }
        }
        if let timeZone {
            guard schedule != nil else { throw invalid("timezone", "only a scheduled job has a time zone") }
            guard TimeZone(identifier: timeZone) != nil else {
                throw invalid("timezone", "unknown time zone '\(timeZone)': use an IANA name such as Europe/Berlin or UTC")
            }
        }
        if timeout != nil, continuous { throw invalid("timeout", "a continuous job runs until stopped: it takes no timeout") }
        if !continuous {
            if port != nil { throw invalid("port", "only a continuous job can listen on a port") }
            if replicas != nil { throw invalid("replicas", "only a continuous job can have replicas") }
            if healthCheckScript != nil { throw invalid("health-check-script", "only a continuous job has a health check") }
            if healthCheckHTTP != nil { throw invalid("health-check-http", "only a continuous job has a health check") }
        }
        try validatePort()
        if let path = healthCheckHTTP {
            if healthCheckScript != nil {
                throw invalid("health-check-http", "give health-check-script or health-check-http, not both")
            }
            guard port != nil else {
                throw invalid("health-check-http", "health-check-http needs a port (--port): the path is asked for at the job's port")
            }
            try JobHealthCheck.validate(path: path, job: name)
        }
        if !filelog && (filelogStdout != nil || filelogStderr != nil) {
            throw invalid("no-filelog", "file log paths were given for a job without file log")
        }
    }
}

extension JobSpec {
    /// Every number of the declaration in its range, each error naming its field: checked when a
    /// spec is decoded (an API body) and by `validate()` (flags, jobs.yaml).
    public func checkNumbers() throws(KilnError) {
        func invalid(_ field: String, _ message: String) -> KilnError {
            KilnError(.badRequest, message, context: ["field": field, "job": name])
        }
        guard (0...Self.maximumRetry).contains(retry) else {
            throw invalid("retry", "retry must be from 0 to \(Self.maximumRetry), not \(retry)")
        }
        if let timeout, !(1...Self.maximumTimeout).contains(timeout) {
            throw invalid("timeout", "timeout must be from 1 to \(Self.maximumTimeout) seconds, not \(timeout)")
        }
        if let port, !Self.validPorts.contains(port) {
            throw invalid("port", "port must be from \(Self.validPorts.lowerBound) to \(Self.validPorts.upperBound), not \(port)")
        }
        if let replicas, !(1...Self.maximumReplicas).contains(replicas) {
            throw invalid("replicas", "replicas must be from 1 to \(Self.maximumReplicas), not \(replicas)")
        }
        if let memory, memory.bytes < 1 { throw invalid("mem", "mem must be at least 1 byte, not \(memory.bytes)") }
        if let cpu, cpu.millicores < 1 { throw invalid("cpu", "cpu must be at least 1m, not \(cpu.millicores)m") }
    }
}

extension JobSpec {
    /// The port's protocol: Toolforge takes udp, but here a job's port is reached through a relay
    /// of TCP streams (at the job's own address), so a UDP port is refused, saying so.
    func validatePort() throws(KilnError) {
        let context = ["field": "port", "job": name]
        switch portProtocol {
        case .tcp:
            return
        case .udp:
            guard let port else {
                throw KilnError(.badRequest, "a port protocol (udp) was given without a port", context: context)
            }
            throw KilnError(
                .badRequest,
                "port \(port)/udp cannot be served here: a continuous job's port is relayed as TCP only; use \(port) or \(port)/tcp",
                context: context)
        }
    }

    /// The declared port as Toolforge writes it (`8080/tcp`).
    public var jobPort: JobPort? { port.map { JobPort(number: $0, portProtocol: portProtocol) } }
}

/// Job names as Toolforge takes them: DNS labels (lower-case letters, digits, '-'; starting with a
/// letter; at most 52 characters, so that generated names stay valid).
public enum JobName {
    public static func validate(_ name: String) throws(KilnError) {
        let bytes = Array(name.utf8)
        let valid =
            !bytes.isEmpty && bytes.count <= 52 && bytes[0] >= 0x61 && bytes[0] <= 0x7A && bytes.last != UInt8(ascii: "-")
            && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
        guard valid else {
            throw KilnError(
                .invalidName,
                "invalid job name '\(name)': use lower-case letters, digits and '-', starting with a letter, at most 52 characters",
                context: ["field": "name", "job": name])
        }
    }
}

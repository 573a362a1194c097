import Foundation
import Hummingbird
import KilnCore
import KilnFiles
import KilnFormats
import KilnRunner

/// `/v1/tools/{tool}/webservice`: start, stop, restart, status and logs of a tool's webservice.
/// A start merges the request's fields over the tool's `service.template` (as Toolforge's
/// `webservice start` merges flags over it).
struct WebservicesController {
    let control: any WebserviceControl
    /// The tool's home, where `service.template` and the logs are.
    let filesOf: @Sendable (ToolName) async throws(KilnError) -> ConfinedDirectory
    /// The tool's account (its Unix user, for `shell`).
    let toolOf: @Sendable (ToolName) async throws(KilnError) -> Tool?
    /// The tools' envvars as their processes get them.
    var environments: ToolEnvironments?
    /// The host's runtimes, which `types` reports beside each type.
    var runtimes: HostRuntimes = .shared

    func register(on router: some RouterMethods<KilnRequestContext>) {
        router.get("/v1/webservice/types", use: types)
        router.get("/v1/tools/{tool}/webservice", use: status)
        router.post("/v1/tools/{tool}/webservice/start", use: start)
        router.post("/v1/tools/{tool}/webservice/stop", use: stop)
        router.post("/v1/tools/{tool}/webservice/restart", use: restart)
        router.get("/v1/tools/{tool}/webservice/logs", use: logs)
        router.get("/v1/tools/{tool}/webservice/shell", use: shell)
    }

    @Sendable func types(_ request: Request, context: KilnRequestContext) async throws -> WebserviceTypesResponse {
        _ = try context.caller()
        return WebserviceTypesResponse(types: WebserviceTypeCatalogue.standard.types.map { type in
            let found = type.runtime.flatMap { runtimes.find($0) }
            let missingServer = type.family.serverProgram.flatMap { runtimes.hasProgram($0) ? nil : $0 }
            return .init(
                name: type.name, family: type.family.rawValue, runtime: type.runtime?.rawValue, retired: type.retired,
                available: type.family != .buildservice && missingServer == nil && (type.runtime == nil || found != nil || type.runtime == .golang),
                missingProgram: missingServer ?? (found == nil && type.runtime != .golang ? type.runtime?.program : nil),
                hostRuntime: found.map { [$0.path, $0.version].compactMap { $0 }.joined(separator: ": ") }, summary: type.summary)
        })
    }

    @Sendable func status(_ request: Request, context: KilnRequestContext) async throws -> WebserviceStatusResponse {
        let tool = try context.authorizedTool()
        return WebserviceStatusResponse(status: try await control.status(tool: tool), warnings: [])
    }

    @Sendable func start(_ request: Request, context: KilnRequestContext) async throws -> EditedResponse<WebserviceStatusResponse> {
        let tool = try context.authorizedTool()
        let body = try await request.decode(as: StartWebserviceRequest.self, context: context)
        let template: ServiceTemplate
        if let text = body.template {
            template = try body.parseTemplate(text)
        } else {
            template = try readTemplate(in: try await filesOf(tool))
        }
        let spec = try template.merged(with: try body.flags())
        let status = try await control.start(tool: tool, spec: spec)
        let warnings = template.warnings.map(\.description) + [spec.type.retirementWarning].compactMap { $0 }
        return EditedResponse(status: .created, response: WebserviceStatusResponse(status: status, warnings: warnings))
    }

    @Sendable func stop(_ request: Request, context: KilnRequestContext) async throws -> WebserviceStatusResponse {
        let tool = try context.authorizedTool()
        return WebserviceStatusResponse(status: try await control.stop(tool: tool), warnings: [])
    }

    @Sendable func restart(_ request: Request, context: KilnRequestContext) async throws -> WebserviceStatusResponse {
        let tool = try context.authorizedTool()
        return WebserviceStatusResponse(status: try await control.restart(tool: tool), warnings: [])
    }

    /// `?stream=out|err` (default err), and either `lines=N` (the last N lines) or `offset=BYTES`
    /// (what was appended since, for following).
    @Sendable func logs(_ request: Request, context: KilnRequestContext) async throws -> WebserviceLogsResponse {
        let tool = try context.authorizedTool()
        let parameters = request.uri.queryParameters
        let streamName = parameters.get("stream") ?? "err"
        guard let stream = LogStream(rawValue: streamName) else {
            throw KilnError(.badRequest, "stream must be out or err, not '\(streamName)'")
        }
        return try LogWindow.read(LogFile(in: try await filesOf(tool), at: stream.webserviceLog), parameters: parameters)
    }

    /// The tool's `service.template`, or nothing when it has none.
    func readTemplate(in files: ConfinedDirectory) throws(KilnError) -> ServiceTemplate {
        try ServiceTemplate.read(ServiceTemplate.fileName, in: files) ?? ServiceTemplate()
    }
}

/// The fields of `webservice start`; each one given overrides service.template.
public struct StartWebserviceRequest: Codable, Sendable {
    public var type: String?
    public var command: String?
    public var replicas: Int?
    public var mem: String?
    public var cpu: String?
    public var healthCheckPath: String?
    public var extraArgs: [String]?
    /// A template given with `--template FILE` (its text and the name it had), used instead of
    /// the tool's service.template.
    public var template: String?
    public var templateName: String?
    /// `--buildservice-image`.
    public var buildserviceImage: String?

    public init(
        type: String? = nil, command: String? = nil, replicas: Int? = nil, mem: String? = nil, cpu: String? = nil,
        healthCheckPath: String? = nil, extraArgs: [String]? = nil, template: String? = nil, templateName: String? = nil,
        buildserviceImage: String? = nil
    ) {
        self.buildserviceImage = buildserviceImage
        self.template = template
        self.templateName = templateName
        self.type = type
        self.command = command
        self.replicas = replicas
        self.mem = mem
        self.cpu = cpu
        self.healthCheckPath = healthCheckPath
        self.extraArgs = extraArgs
    }

    enum CodingKeys: String, CodingKey {
        case type, command, replicas, mem, cpu, healthCheckPath, extraArgs, template, templateName, buildserviceImage
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            type: try container.decodeIfPresent(String.self, forKey: .type),
            command: try container.decodeIfPresent(String.self, forKey: .command),
            replicas: try container.decodeWholeNumberIfPresent(Int.self, forKey: .replicas),
            mem: try container.decodeIfPresent(String.self, forKey: .mem), cpu: try container.decodeIfPresent(String.self, forKey: .cpu),
            healthCheckPath: try container.decodeIfPresent(String.self, forKey: .healthCheckPath),
            extraArgs: try container.decodeIfPresent([String].self, forKey: .extraArgs),
            template: try container.decodeIfPresent(String.self, forKey: .template),
            templateName: try container.decodeIfPresent(String.self, forKey: .templateName),
            buildserviceImage: try container.decodeIfPresent(String.self, forKey: .buildserviceImage))
    }

    /// The `--template` text, held to what the tool's own service.template may be; errors name
    /// the file as the user gave it (its last component: nothing of the caller's paths is echoed).
    func parseTemplate(_ text: String) throws(KilnError) -> ServiceTemplate {
        let name = templateName.map { ($0 as NSString).lastPathComponent }.flatMap { $0.isEmpty ? nil : String($0.prefix(255)) } ?? "template"
        guard text.utf8.count <= ServiceTemplate.maximumBytes else {
            throw KilnError(.badRequest, "\(name) is larger than \(ServiceTemplate.maximumBytes) bytes", context: ["file": name, "field": "template"])
        }
        return try ServiceTemplate(parsing: text, fileName: name)
    }

    func flags() throws(KilnError) -> ServiceTemplate {
        var flags = ServiceTemplate()
        flags.image = buildserviceImage
        flags.type = try type.map { text throws(KilnError) in try WebserviceType(parsing: text) }
        flags.command = command
        flags.replicas = replicas
        flags.memory = try mem.map { text throws(KilnError) in try Self.field("mem") { () throws(KilnError) in try MemorySize(parsing: text) } }
        flags.cpu = try cpu.map { text throws(KilnError) in try Self.field("cpu") { () throws(KilnError) in try CPUQuantity(parsing: text) } }
        flags.healthCheckPath = healthCheckPath
        flags.extraArguments = extraArgs
        return flags
    }

    /// A value's error names the field it came in.
    private static func field<Value>(_ name: String, _ parse: () throws(KilnError) -> Value) throws(KilnError) -> Value {
        do {
            return try parse()
        } catch {
            var error = error
            error.context["field"] = name
            error.message = "\(name): \(error.message)"
            throw error
        }
    }
}

public struct WebserviceStatusResponse: Codable, Sendable, ResponseEncodable {
    public var status: WebserviceStatus
    /// What was ignored in service.template (unknown keys), with lines.
    public var warnings: [String]
}

public struct WebserviceTypesResponse: Codable, Sendable, ResponseEncodable {
    public struct TypeEntry: Codable, Sendable {
        public var name: String
        /// What it starts (`python`, `php`, `command` …), and the runtime it needs.
        public var family: String
        public var runtime: String?
        public var retired: Bool
        /// Whether this host can start it (it has the runtime and the server).
        public var available: Bool
        /// The program it lacks when it cannot.
        public var missingProgram: String?
        /// The host's program of the runtime and what it says of its version.
        public var hostRuntime: String?
        public var summary: String
    }
    public var types: [TypeEntry]
}

public struct WebserviceLogsResponse: Codable, Sendable, ResponseEncodable {
    public var text: String
    public var nextOffset: UInt64
}

/// The part of a log a client asked for: `offset=BYTES` (what was appended since, for following)
/// or `lines=N` (the last N lines, 100 by default, at most `maximumLines`).
enum LogWindow {
    static let defaultLines = 100
    /// A read returns at most a MiB whatever it asks; more lines than this would be a mistake.
    static let maximumLines = 100_000

    static func read(_ file: LogFile, parameters: Parameters) throws(KilnError) -> WebserviceLogsResponse {
        if let offset = parameters.get("offset") {
            guard let offset = UInt64(offset) else {
                throw KilnError(.badRequest, "offset must be a number of bytes, not '\(offset)'", context: ["field": "offset"])
            }
            let (text, next) = try file.read(from: offset)
            return WebserviceLogsResponse(text: text, nextOffset: next)
        }
        let count = try parameters.get("lines").map { text throws(KilnError) in
            guard let count = Int(text), (0...maximumLines).contains(count) else {
                throw KilnError(.badRequest, "lines must be a number from 0 to \(maximumLines), not '\(text)'", context: ["field": "lines"])
            }
            return count
        } ?? defaultLines
        let lines = try file.lastLines(count)
        return WebserviceLogsResponse(text: lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n", nextOffset: try file.size())
    }
}

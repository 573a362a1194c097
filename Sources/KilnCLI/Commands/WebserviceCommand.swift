import ArgumentParser
import Foundation
import KilnAPI
import KilnCore
import KilnFormats

/// `kiln webservice [TYPE] start|stop|restart|status|logs|types`, as Toolforge users type it.
struct WebserviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webservice", abstract: "Start, stop and inspect the tool's webservice.",
        discussion: """
            kiln webservice [TYPE] start       start the webservice (TYPE or service.template's `type`)
            kiln webservice stop | restart     stop it; replace its replicas by new ones (the old
                                               serve until the new do, and stay if they do not)
            kiln webservice status [--json]    what runs, and why not when it does not
            kiln webservice logs [-f] [--last N] [--stream out|err]
            kiln webservice [TYPE] shell       an interactive shell as the tool, with TYPE's runtime
            kiln webservice types              the types this platform runs, with the host's runtimes
            Flags override the tool's service.template (or --template FILE); extra arguments for the
            server follow `--` (the command itself for jdk, golang, ruby, perl, tcl and generic).
            """)

    enum Action: String, CaseIterable {
        case start, stop, restart, status, logs, types, shell
    }

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "[TYPE] ACTION [-- SERVER ARGUMENTS]") var words: [String] = []
    @Option(name: .shortAndLong, help: "How many copies of the server run behind the proxy.") var replicas: Int?
    @Option(name: .shortAndLong, help: "Memory per replica, as 512Mi or 1Gi.") var mem: String?
    @Option(name: .shortAndLong, help: "CPU per replica, in cores (0.5) or millicores (500m).") var cpu: String?
    @Option(help: "Toolforge's backend (kubernetes, or gridengine of old): accepted; Kiln runs the platform's own.")
    var backend: String?
    @Option(help: "Read the defaults from FILE instead of the tool's service.template.") var template: String?
    @Option(name: .customLong("health-check-path"), help: "The path that must answer before a replica is routed.")
    var healthCheckPath: String?
    @Option(help: "The program of a generic webservice (it must listen on $PORT); for buildservice, the image's process (default web).")
    var command: String?
    @Option(name: .customLong("buildservice-image"), help: "buildservice: the tool's image to run (default tool-TOOL/TOOL:latest).")
    var buildserviceImage: String?
    @Option(name: .customLong("extra-args"), help: "One more argument for the server (repeatable).")
    var extraArgs: [String] = []
    @Flag(name: .shortAndLong, help: "logs: keep printing what is appended.") var follow = false
    @Option(name: [.customShort("l"), .long], help: "logs: how many lines from the end.") var last: Int = 100
    @Option(help: "logs: out or err (both by default).") var stream: String?

    /// `[TYPE] ACTION [SERVER ARGUMENTS]`: the words after `--` come last, as positionals.
    var actionIndex: Int? { words.prefix(2).firstIndex { Action(rawValue: $0) != nil } }
    var action: Action { actionIndex.flatMap { Action(rawValue: words[$0]) } ?? .status }
    var type: String? { actionIndex == 1 ? words[0] : nil }
    var serverArguments: [String] { actionIndex.map { Array(words[($0 + 1)...]) } ?? [] }

    func validate() throws {
        guard actionIndex != nil else {
            throw ValidationError(
                "say what to do: kiln webservice [TYPE] \(Action.allCases.map(\.rawValue).joined(separator: "|"))")
        }
        if !serverArguments.isEmpty, action != .start {
            throw ValidationError("server arguments go only with start (kiln webservice [TYPE] start -- ARGUMENTS)")
        }
        if let replicas, !(1...WebserviceSpec.maximumReplicas).contains(replicas) {
            throw ValidationError("--replicas must be from 1 to \(WebserviceSpec.maximumReplicas)")
        }
        if let stream, LogStream(rawValue: stream) == nil { throw ValidationError("--stream is out or err") }
        if let backend, !Self.backends.contains(backend) {
            throw ValidationError("--backend is one of \(Self.backends.joined(separator: ", "))")
        }
        if type != nil, action != .start, action != .shell {
            throw ValidationError("a TYPE goes only with start or shell (kiln webservice TYPE start)")
        }
    }

    /// Toolforge's backends: whichever a user's scripts name, the platform runs its own.
    static let backends = ["kubernetes", "gridengine", "local"]

    func run() async throws {
        let client = try connection.client()
        if action == .types { return try await printTypes(client) }
        let tool = try await connection.resolveTool(using: client)
        let base = "/v1/tools/\(PathComponent.escape(tool))/webservice"
        switch action {
        case .start:
            let response: WebserviceStatusResponse = try await client.post(base + "/start", try startRequest())
            for warning in response.warnings { ToolforgeLog.write(.warning, warning) }
            try report(response.status, verb: "started")
        case .restart:
            let response: WebserviceStatusResponse = try await client.post(base + "/restart", APIClient.Empty())
            try report(response.status, verb: "restarted")
        case .stop:
            let response: WebserviceStatusResponse = try await client.post(base + "/stop", APIClient.Empty())
            if output.json { return try JSONOutput.print(response.status) }
            print("Stopping webservice of \(tool): done.")
        case .status:
            let response: WebserviceStatusResponse = try await client.get(base)
            if output.json { return try JSONOutput.print(response.status) }
            print(Self.render(response.status))
        case .logs:
            try await printLogs(client, base: base)
        case .shell:
            let query = type.map { "?type=" + PathComponent.escape($0) } ?? ""
            let shell: WebserviceShellResponse = try await client.get(base + "/shell" + query)
            try ToolShell.exec(shell)
        case .types:
            break
        }
    }

    func startRequest() throws -> StartWebserviceRequest {
        let extra = extraArgs + serverArguments
        return StartWebserviceRequest(
            type: type, command: command, replicas: replicas, mem: mem, cpu: cpu, healthCheckPath: healthCheckPath,
            extraArgs: extra.isEmpty ? nil : extra, template: try template.map(Self.readTemplate), templateName: template,
            buildserviceImage: buildserviceImage)
    }

    /// `--template FILE`, read here with the caller's rights (it is the caller's file), no larger
    /// than a service.template may be.
    static func readTemplate(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError.user("cannot read the template \(path)") }
        defer { try? handle.close() }
        let limit = ServiceTemplate.maximumBytes
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else { throw CLIError.user("the template \(path) is larger than \(limit) bytes") }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError.user("the template \(path) is not UTF-8 text") }
        return text
    }

    /// After start or restart: the status, and exit 1 when the webservice did not come up (or a
    /// restart's new replicas did not, the old ones still serving).
    func report(_ status: WebserviceStatus, verb: String) throws {
        if output.json { try JSONOutput.print(status) }
        if let failure = status.restartFailure {
            if !output.json { print(Self.render(status)) }
            throw CLIError.user("the webservice of \(status.tool) was not restarted: \(failure)")
        }
        guard status.state == .running else {
            if !output.json { print(Self.render(status)) }
            throw CLIError.user("the webservice of \(status.tool) did not come up (\(status.state.rawValue))")
        }
        if !output.json {
            print("Webservice of \(status.tool) \(verb): \(status.type ?? "?"), \(status.replicas.count) replica(s) serving.")
        }
    }

    static func render(_ status: WebserviceStatus) -> String {
        guard status.state != .stopped else { return "Your webservice is not running." }
        var lines = ["Your webservice of type \(status.type ?? "?") is \(status.state.rawValue)."]
        var block = KeyValueBlock()
        block.add("Replicas", "\(status.replicas.filter { $0.phase == .serving }.count) of \(status.replicasWanted) serving")
        block.add("Memory", "\(status.memory ?? "-"), enforced by \(status.limitEnforcement["mem"] ?? "-")")
        block.add("CPU", "\(status.cpu ?? "-"), " + (status.limitEnforcement["cpu"].map {
            $0.hasPrefix("not enforced") ? $0 : "enforced by \($0)"
        } ?? "-"))
        block.add("Health check", status.healthCheckPath ?? "/")
        if let command = status.command { block.add("Command", command) }
        if !status.extraArguments.isEmpty { block.add("Extra arguments", status.extraArguments.joined(separator: " ")) }
        if let reason = status.failedReason { block.add("Failed", reason) }
        if let failure = status.restartFailure { block.add("Restart failed", failure) }
        if let last = status.lastExit { block.add("Last exit", last + (status.lastExitCode.map { " (code \($0))" } ?? "")) }
        lines.append(block.render())
        // On a grid a replica is a grid job, not a process of this host.
        let onGrid = status.replicas.contains { $0.gridJob != nil }
        var table = TextTable("REPLICA", "BACKEND", "STATE", onGrid ? "GRID JOB" : "PID", "RESTARTS", "LAST EXIT")
        for replica in status.replicas {
            table.add(
                String(replica.index), replica.backend, replica.phase.rawValue,
                (onGrid ? replica.gridJob : replica.pid.map(String.init)) ?? "-",
                String(replica.restarts), replica.lastExit ?? "-")
        }
        lines.append(table.render())
        if !status.errorLogTail.isEmpty {
            lines.append("Last lines of logs/web.err:")
            lines += status.errorLogTail.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    func printTypes(_ client: APIClient) async throws {
        let response: WebserviceTypesResponse = try await client.get("/v1/webservice/types")
        if output.json { return try JSONOutput.print(response.types) }
        let rows = response.types.map { type in
            [
                type.name, type.family == "buildservice" ? "refused" : type.retired ? "retired" : "current",
                type.available
                    ? (type.hostRuntime ?? (type.runtime == nil ? "-" : "?"))
                    : "not available on this host" + (type.missingProgram.map { " (no \($0))" } ?? ""),
                type.summary,
            ]
        }
        print(Tabulate.render(rows, headers: ["Type", "Status", "Runtime on this host", "Starts"], format: .pretty))
    }

    func printLogs(_ client: APIClient, base: String) async throws {
        let streams = stream.flatMap(LogStream.init(rawValue:)).map { [$0] } ?? LogStream.allCases
        try await LogPrinter(client: client, path: base + "/logs", label: { "logs/web.\($0.rawValue)" })
            .print(streams: streams, last: last, follow: follow)
    }
}

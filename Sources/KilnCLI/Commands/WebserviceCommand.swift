import ArgumentParser
import Foundation
import KilnAPI
import KilnCore

/// `kiln webservice [TYPE] start|stop|restart|status|logs|types`, as Toolforge users type it.
struct WebserviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webservice", abstract: "Start, stop and inspect the tool's webservice.",
        discussion: """
            kiln webservice [TYPE] start       start the webservice (TYPE or service.template's `type`)
            kiln webservice stop | restart     stop it; stop and start it again
            kiln webservice status [--json]    what runs, and why not when it does not
            kiln webservice logs [-f] [--last N] [--stream out|err]
            kiln webservice types              the types this platform runs
            Flags override the tool's service.template; extra arguments for the server follow `--`.
            """)

    enum Action: String, CaseIterable {
        case start, stop, restart, status, logs, types
    }

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "[TYPE] ACTION [-- SERVER ARGUMENTS]") var words: [String] = []
    @Option(help: "How many copies of the server run behind the proxy.") var replicas: Int?
    @Option(help: "Memory per replica, as 512Mi or 1Gi.") var mem: String?
    @Option(help: "CPU per replica, in cores (0.5) or millicores (500m).") var cpu: String?
    @Option(name: .customLong("health-check-path"), help: "The path that must answer before a replica is routed.")
    var healthCheckPath: String?
    @Option(help: "The program of a generic webservice; it must listen on $PORT.") var command: String?
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
        if type != nil, action != .start {
            throw ValidationError("a TYPE goes only with start (kiln webservice TYPE start)")
        }
        if !serverArguments.isEmpty, action != .start {
            throw ValidationError("server arguments go only with start (kiln webservice [TYPE] start -- ARGUMENTS)")
        }
        if let replicas, !(1...WebserviceSpec.maximumReplicas).contains(replicas) {
            throw ValidationError("--replicas must be from 1 to \(WebserviceSpec.maximumReplicas)")
        }
        if let stream, LogStream(rawValue: stream) == nil { throw ValidationError("--stream is out or err") }
    }

    func run() async throws {
        let client = try connection.client()
        if action == .types { return try await printTypes(client) }
        let tool = try await connection.resolveTool(using: client)
        let base = "/v1/tools/\(PathComponent.escape(tool))/webservice"
        switch action {
        case .start:
            let response: WebserviceStatusResponse = try await client.post(base + "/start", startRequest())
            for warning in response.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
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
        case .types:
            break
        }
    }

    func startRequest() -> StartWebserviceRequest {
        let extra = extraArgs + serverArguments
        return StartWebserviceRequest(
            type: type, command: command, replicas: replicas, mem: mem, cpu: cpu, healthCheckPath: healthCheckPath,
            extraArgs: extra.isEmpty ? nil : extra)
    }

    /// After start or restart: the status, and exit 1 when the webservice did not come up.
    func report(_ status: WebserviceStatus, verb: String) throws {
        if output.json { try JSONOutput.print(status) }
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
        if let last = status.lastExit { block.add("Last exit", last + (status.lastExitCode.map { " (code \($0))" } ?? "")) }
        lines.append(block.render())
        var table = TextTable("REPLICA", "BACKEND", "STATE", "PID", "RESTARTS", "LAST EXIT")
        for replica in status.replicas {
            table.add(
                String(replica.index), replica.backend, replica.phase.rawValue, replica.pid.map(String.init) ?? "-",
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
        var table = TextTable("TYPE", "DESCRIPTION")
        for type in response.types { table.add(type.name, type.summary) }
        print(table.render())
    }

    func printLogs(_ client: APIClient, base: String) async throws {
        let streams = stream.flatMap(LogStream.init(rawValue:)).map { [$0] } ?? LogStream.allCases
        try await LogPrinter(client: client, path: base + "/logs", label: { "logs/web.\($0.rawValue)" })
            .print(streams: streams, last: last, follow: follow)
    }
}

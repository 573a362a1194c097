import Foundation
import KilnCore
import KilnFiles
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Tells the control plane where a grid replica's server answers, with the credential the
/// platform issued for that replica's life (the CLI's side of the API implements it).
public protocol ReplicaRegistrationClient: Sendable {
    /// `backend` nil: the server no longer answers there (the runner is stopping).
    func report(_ backend: HostPort?) async throws(KilnError)
}

/// `kiln run-webservice`, the seed's webservice-runner: one replica of a webservice as a grid
/// job, run as the tool on whatever execution host the grid picked. It starts the tool's server
/// on a free port at this host's address (the one the control plane is reached from), waits for
/// its health check, registers `HOST:PORT` with the control plane, and deregisters when the
/// server ends or the grid stops the job. The grid enforces the replica's memory and CPU.
public struct WebserviceRunner: Sendable {
    /// The environment variables the platform sets for the runner alone: never passed on.
    public static let credentialVariable = "KILN_REPLICA_CREDENTIAL"
    public static let specVariable = "KILN_WEBSERVICE"
    /// A `buildservice` replica's image (`ImageLaunch`, JSON), as the platform found it at the start.
    public static let imageVariable = "KILN_WEBSERVICE_IMAGE"
    /// Which inherited variables are the tool's envvars (comma-separated names): those, and only
    /// those, reach the server, layered as on the platform's own host.
    public static let toolVariablesVariable = "KILN_TOOL_ENVVARS"

    public var tool: ToolName
    public var replica: Int
    public var spec: WebserviceSpec
    public var home: String
    public var kilnExecutable: String
    public var controlPlane: HostPort
    public var startTimeout: Duration
    /// The tool's envvars as the job was given them.
    public var toolEnvironment: [String: String]
    /// A `buildservice` replica's image.
    public var builtImage: ImageLaunch?
    let client: any ReplicaRegistrationClient

    public init(
        tool: ToolName, replica: Int, spec: WebserviceSpec, home: String, kilnExecutable: String, controlPlane: HostPort,
        startTimeout: Duration, toolEnvironment: [String: String], client: any ReplicaRegistrationClient
    ) {
        self.tool = tool
        self.replica = replica
        self.spec = spec
        self.home = home
        self.kilnExecutable = kilnExecutable
        self.controlPlane = controlPlane
        self.startTimeout = startTimeout
        self.toolEnvironment = toolEnvironment
        self.client = client
    }

    /// How often a serving runner says again where it serves.
    public static let heartbeatInterval: Duration = .seconds(10)

    /// While the server lives, says again every `heartbeatInterval` where it serves. A refusal
    /// means this life is no longer the replica's (the grid gave its job up, say after losing
    /// this host's daemon, and the platform started another elsewhere): the server stops rather
    /// than live on unrouted. Anything else (the control plane unreachable, or busy with this
    /// replica) changes nothing: it serves on.
    func heartbeat(_ backend: HostPort, server pid: Int32, say: @Sendable (String) -> Void) async {
        guard let start = ProcessInspector.startTime(of: pid) else { return }
        var due = ContinuousClock.now + Self.heartbeatInterval
        // The server's end is seen within half a second (the runner's end waits on this loop).
        while !Task.isCancelled, ProcessInspector.isAlive(pid: pid, start: start) {
            try? await Task.sleep(for: .milliseconds(500))
            guard ContinuousClock.now >= due else { continue }
            due = ContinuousClock.now + Self.heartbeatInterval
            do throws(KilnError) {
                try await client.report(backend)
            } catch where error.code == .forbidden || error.code == .notFound {
                say("kiln: this is no longer the replica's current life (\(error.message)); stopping the server")
                _ = ProcessInspector.signalGroup(pid, SIGTERM)
                return
            } catch {
                continue
            }
        }
    }

    /// The tool's envvars among `inherited`, as `toolVariablesVariable` names them.
    public static func toolEnvironment(in inherited: [String: String]) -> [String: String] {
        let names = Set((inherited[toolVariablesVariable] ?? "").split(separator: ",").map(String.init))
        return inherited.filter { names.contains($0.key) }
    }

    /// Runs the server until it ends, or until the calling task is cancelled (the grid's TERM),
    /// which stops its process group; returns how it ended. `say` writes to the replica's log.
    public func run(say: @escaping @Sendable (String) -> Void) async -> ExitStatus {
        let address: String
        let port: Int
        do {
            address = try SourceAddress.toward(controlPlane)
            port = try PortAllocator.freePort(on: address)
        } catch {
            return .couldNotStart(reason: error.message)
        }
        // Sockets of PHP's FastCGI go in a folder of this run's own on this host.
        var template = Array("/tmp/kiln-web-\(tool.rawValue)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            return .couldNotStart(reason: "cannot make a folder in /tmp: \(String(cString: strerror(errno)))")
        }
        let runtimeFolder = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: runtimeFolder) }
        let environments = ToolEnvironments()
        environments.set(toolEnvironment, for: tool)
        var launch = WebserviceLaunch(
            tool: tool, user: nil, home: home, spec: spec, kilnExecutable: kilnExecutable,
            runtimeDirectory: RuntimeDirectory(path: runtimeFolder), environments: environments)
        launch.bindAddress = address
        if spec.type.family == .buildservice {
            launch.builtImage = builtImage.map { .success($0) }
                ?? .failure(KilnError(.invalidWebservice, "the platform gave this replica no image (\(Self.imageVariable))"))
        }
        var process: ProcessSpec
        do {
            process = try launch.processSpec(replica: replica, port: port)
        } catch {
            return .couldNotStart(reason: error.message)
        }
        // The grid holds the job to its limits; control groups here are the grid's business.
        process.limits = nil
        let backend = HostPort(host: address, port: port)
        let registered = Mutex(false)
        let (client, tool, spec, startTimeout) = (self.client, self.tool, self.spec, self.startTimeout)
        say("kiln: replica \(replica) of \(tool)'s webservice starting at \(backend)")
        let status = await ProcessRunner.run(process) { pid in
            guard await HealthProbe.waitUntilHealthy(
                backend, path: spec.healthCheckPath, host: "\(tool.rawValue).localhost", owner: .anyone, within: startTimeout)
            else {
                if !Task.isCancelled {
                    say("kiln: the server did not answer \(spec.healthCheckPath) at \(backend) within \(startTimeout.spoken); stopping it")
                    _ = ProcessInspector.signalGroup(pid, SIGTERM)
                }
                return
            }
            do throws(KilnError) {
                try await client.report(backend)
                registered.withLock { $0 = true }
                say("kiln: serving at \(backend), registered with the control plane")
            } catch {
                say("kiln: the control plane refused the replica's backend: \(error.message); stopping the server")
                _ = ProcessInspector.signalGroup(pid, SIGTERM)
                return
            }
            await heartbeat(backend, server: pid, say: say)
        }
        if registered.withLock({ $0 }) {
            // Not in the cancelled task: a stop by the grid must still deregister.
            let refusal = await Task { () -> KilnError? in
                do throws(KilnError) {
                    try await client.report(nil)
                    return nil
                } catch {
                    return error
                }
            }.value
            if let refusal, refusal.code == .notFound || refusal.code == .forbidden {
                // The replica is no longer wanted (stopped, or a new life began): its route went with it.
                say("kiln: the platform had taken \(backend) out of the proxy already")
            } else if let refusal {
                say("kiln: cannot deregister \(backend): \(refusal.message) (the platform does when it sees the job end)")
            }
        }
        say("kiln: replica \(replica) ended: \(status)")
        return status
    }
}

import ArgumentParser
import Dispatch
import Foundation
import KilnCore
import KilnRunner
import KilnServer

#if canImport(Glibc)
import Glibc
#endif

/// `kiln run-webservice`: what a grid job of a webservice replica runs, as the tool, on the
/// host the grid picked (the platform submits it; no one types it). The replica's declaration
/// and credential come in its environment, never in its arguments.
struct RunWebserviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-webservice", abstract: "Run one replica of a webservice on a grid's host (submitted by the platform).",
        shouldDisplay: false)

    @Option(help: "The tool.") var tool: String
    @Option(help: "The replica's number.") var replica: Int
    @Option(help: "HOST:PORT of the control-plane API.") var controlPlane: String
    @Option(help: "Seconds the server may take to answer its health check (1-3600).") var startTimeout: Int = 30

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let tool = try ToolName(tool)
        guard (0..<WebserviceSpec.maximumReplicas).contains(replica) else {
            throw ValidationError("--replica: \(replica) is not from 0 to \(WebserviceSpec.maximumReplicas - 1)")
        }
        guard (1...3600).contains(startTimeout) else { throw ValidationError("--start-timeout: \(startTimeout) is not from 1 to 3600") }
        guard let credential = environment[WebserviceRunner.credentialVariable], let declaration = environment[WebserviceRunner.specVariable]
        else {
            throw ValidationError("run by the platform only: \(WebserviceRunner.credentialVariable) and \(WebserviceRunner.specVariable) are not set")
        }
        let spec: WebserviceSpec
        do {
            spec = try JSONDecoder().decode(WebserviceSpec.self, from: Data(declaration.utf8))
        } catch {
            throw ValidationError("\(WebserviceRunner.specVariable) is not a webservice's declaration: \(error)")
        }
        var image: ImageLaunch?
        if let text = environment[WebserviceRunner.imageVariable] {
            do {
                image = try JSONDecoder().decode(ImageLaunch.self, from: Data(text.utf8))
            } catch {
                throw ValidationError("\(WebserviceRunner.imageVariable) is not an image's launch: \(error)")
            }
        }
        let controlPlane = try HostPort(parsing: controlPlane)
        let client = APIClient(endpoint: .url("http://\(controlPlane)"), token: credential)
        var runner = WebserviceRunner(
            tool: tool, replica: replica, spec: spec, home: environment["HOME"] ?? FileManager.default.currentDirectoryPath,
            kilnExecutable: Platform.executablePath, controlPlane: controlPlane, startTimeout: .seconds(startTimeout),
            toolEnvironment: WebserviceRunner.toolEnvironment(in: environment),
            client: ReplicaRegistrationAPI(client: client, path: "/v1/tools/\(tool.rawValue)/webservice/replicas/\(replica)/backend"))
        runner.builtImage = image
        let serving = Task { await runner.run { line in FileHandle.standardError.write(Data((line + "\n").utf8)) } }
        // The grid stops a job with TERM (then KILL): the server goes first, then the route.
        let stops = [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { serving.cancel() }
            source.resume()
            return source
        }
        let status = await serving.value
        stops.forEach { $0.cancel() }
        throw ExitCode(status.code ?? 1)
    }
}

/// The runner's calls to the API, with its replica's credential.
struct ReplicaRegistrationAPI: ReplicaRegistrationClient {
    let client: APIClient
    let path: String

    struct Backend: Encodable {
        var host: String
        var port: Int
    }

    func report(_ backend: HostPort?) async throws(KilnError) {
        do {
            if let backend {
                let _: APIClient.Empty = try await client.put(path, Backend(host: backend.host, port: backend.port))
            } else {
                let _: APIClient.Empty = try await client.delete(path)
            }
        } catch let CLIError.server(status, code, message) {
            throw KilnError(KilnError.Code(code), message, context: ["status": String(status)])
        } catch {
            throw KilnError(.unavailable, "\(error)")
        }
    }
}

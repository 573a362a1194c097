import ArgumentParser
import Foundation
import KilnCore

/// `kiln`: the platform's one binary.
public struct KilnCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Kiln: hosting for community tools, bots and scheduled jobs.",
        subcommands: [
            ServeCommand.self, ProxyCommand.self, ToolsCommand.self, RoutesCommand.self, WebserviceCommand.self,
            JobsCommand.self, EnvvarsCommand.self, BuildCommand.self, ToolforgeCommand.self, GridCommand.Jsub.self, GridCommand.Jstart.self,
            GridCommand.Jstop.self, WhoAmICommand.self, StaticServerCommand.self, ServeProxyCommand.self, RunWebserviceCommand.self,
        ])

    public init() {}

    /// Runs the command line and exits: 0 ok, 1 a user error, 2 a usage error or an unreachable server.
    public static func runMain() async -> Never {
        // Installed as `jsub`, `jstart` or `jstop` (or `kiln jsub …`), the binary takes the grid's
        // words, which no argument parser of kiln's reads (`-once`, `-mem 500m`).
        let given = Array(CommandLine.arguments.dropFirst())
        if let invocation = CommandLine.arguments.first.flatMap(GridCommand.invocation(named:)) {
            await GridCommand.main(invocation, given)
        }
        if let first = given.first, let invocation = GridCommand.Invocation(rawValue: first) {
            await GridCommand.main(invocation, Array(given.dropFirst()))
        }
        let arguments = JobsCommand.Run.expandingBareWait(Array(CommandLine.arguments.dropFirst()))
        // Installed as `toolforge`, the binary speaks as Toolforge's CLI does.
        if (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) == "toolforge" {
            await ToolforgeCommand.main(arguments, asKiln: false)
        }
        if arguments.first == "toolforge" { await ToolforgeCommand.main(Array(arguments.dropFirst()), asKiln: true) }
        await run(Self.self, arguments)
    }

    static func run<Root: ParsableCommand>(_ root: Root.Type, _ arguments: [String]) async -> Never {
        do {
            var command = try root.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as CLIError {
            if case .toolforge = error {
                ToolforgeLog.write(.error, error.description)
            } else {
                FileHandle.standardError.write(Data("kiln: \(error)\n".utf8))
            }
            Foundation.exit(error.exitCode)
        } catch let error as KilnError {
            FileHandle.standardError.write(Data("kiln: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch let error as JobExit {
            // `jobs run --wait`: the job's own exit code, whatever it is.
            Foundation.exit(error.code)
        } catch {
            let code = root.exitCode(for: error)
            if code == .success {
                print(root.fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((root.fullMessage(for: error) + "\n").utf8))
            // Usage errors exit 2, as argparse-based tools (Toolforge's among them) do.
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

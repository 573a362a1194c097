import ArgumentParser
import Foundation

/// `kiln`: the platform's one binary.
public struct KilnCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Kiln: hosting for community tools, bots and scheduled jobs.",
        subcommands: [
            ServeCommand.self, ProxyCommand.self, ToolsCommand.self, RoutesCommand.self, WebserviceCommand.self,
            WhoAmICommand.self, StaticServerCommand.self,
        ])

    public init() {}

    /// Runs the command line and exits: 0 ok, 1 a user error, 2 a usage error or an unreachable server.
    public static func runMain() async -> Never {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("kiln: \(error)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            // Usage errors exit 2, as argparse-based tools (Toolforge's among them) do.
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

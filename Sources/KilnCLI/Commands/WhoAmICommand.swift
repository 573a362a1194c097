import ArgumentParser
import KilnAPI

struct WhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show who the server takes you for.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let me: WhoAmIResponse = try await connection.client().get("/v1/whoami")
        if output.json { return try JSONOutput.print(me) }
        print(me.tool.map { "tool \($0)" } ?? me.role)
    }
}

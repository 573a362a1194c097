import ArgumentParser

/// `kiln toolforge …`, and the binary installed as `toolforge`: Toolforge's command words
/// (`toolforge jobs …`, `toolforge webservice …`, `toolforge envvars …`). Its own words (help, an
/// unknown command) are said as Toolforge's click-based `toolforge` says them: see
/// `ToolforgeCommand+Front`.
struct ToolforgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toolforge", abstract: "Toolforge's command words: toolforge jobs …, toolforge webservice …, toolforge envvars ….",
        subcommands: [JobsCommand.self, WebserviceCommand.self, EnvvarsCommand.self, BuildCommand.self])

    /// The commands it dispatches, by name, as its help lists them (sorted, as click sorts them).
    static var commands: [(name: String, abstract: String)] {
        configuration.subcommands.map { command in
            (command.configuration.commandName ?? "\(command)", command.configuration.abstract)
        }.sorted { $0.name < $1.name }
    }
}

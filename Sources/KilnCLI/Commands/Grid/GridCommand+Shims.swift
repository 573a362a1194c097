import ArgumentParser

extension GridCommand {
    /// `kiln jsub|jstart|jstop`, for `kiln --help`: runMain gives their words to `GridCommand`
    /// before the parser sees them, so these only describe them.
    struct Jsub: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jsub", abstract: "The grid's jsub: run a program as a one-off job (jsub -help for its options).")
        @Argument(parsing: .captureForPassthrough, help: "[options...] program [arg...]") var words: [String] = []

        func run() async throws { await GridCommand.main(.jsub, words) }
    }

    struct Jstart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jstart", abstract: "The grid's jstart: run a program as a continuous job (jsub -continuous).")
        @Argument(parsing: .captureForPassthrough, help: "[options...] program [arg...]") var words: [String] = []

        func run() async throws { await GridCommand.main(.jstart, words) }
    }

    struct Jstop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jstop", abstract: "The grid's jstop: stop a job jsub or jstart started.")
        @Argument(parsing: .captureForPassthrough, help: "NAME") var words: [String] = []

        func run() async throws { await GridCommand.main(.jstop, words) }
    }
}

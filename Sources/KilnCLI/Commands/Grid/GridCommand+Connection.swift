import ArgumentParser
import KilnFormats

extension GridCommand {
    /// A command line with Kiln's own options (`--data DIR`, `--tool NAME`, which jsub never had)
    /// taken out: for jsub only among its options, so the program's own words stay its own.
    struct Split {
        var connection: ConnectionOptions
        var words: [String]
    }

    static let connectionOptions = ["--data", "--tool"]

    static func split(_ arguments: [String], optionsEndAtProgram: Bool) throws -> Split {
        var kiln: [String] = []
        var words: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let word = arguments[index]
            if connectionOptions.contains(word) {
                guard index + 1 < arguments.endIndex else { throw CLIError.user("option \(word) requires an argument") }
                kiln += [word, arguments[index + 1]]
                index += 2
                continue
            }
            if connectionOptions.contains(where: { word.hasPrefix($0 + "=") }) {
                kiln.append(word)
                index += 1
                continue
            }
            guard optionsEndAtProgram else {
                words.append(word)
                index += 1
                continue
            }
            // A jsub option and its value, or the program: everything from there is the program's.
            guard let takesValue = JsubOptions.takesValue(word) else {
                words += arguments[index...]
                break
            }
            let end = min(arguments.endIndex, index + (takesValue ? 2 : 1))
            words += arguments[index..<end]
            index = end
        }
        do {
            return Split(connection: try ConnectionOptions.parse(kiln), words: words)
        } catch {
            throw CLIError.user(ConnectionOptions.message(for: error))
        }
    }
}

import ArgumentParser
import Foundation
import KilnFormats

extension JobsCommand {
    /// `kiln jobs import-crontab FILE`: a grid-era crontab (lines calling jsub and jstart) as the
    /// jobs.yaml `kiln jobs load` takes (`CrontabConversion`). Read here, with no server: each line
    /// it cannot convert is a `WARNING:` on standard error naming the line and why, and the rest
    /// is converted.
    struct ImportCrontab: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-crontab",
            abstract: "Turn a grid-era crontab (lines calling jsub, jstart) into a jobs.yaml for `jobs load`.")
        @Argument(help: "The crontab (`crontab -l > FILE`; - for standard input).") var file: String
        @Option(name: [.customShort("f"), .customLong("to-file")], help: "Write the jobs.yaml to this file instead.")
        var toFile: String?

        func run() throws {
            let data: Data
            do {
                data =
                    file == "-"
                    ? FileHandle.standardInput.readDataToEndOfFile()
                    : try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw CLIError.user("cannot read \(file): \(error.localizedDescription)")
            }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError.user("\(file) is not UTF-8 text") }
            let conversion = try CrontabConversion.convert(text)
            let label = file == "-" ? "crontab" : (file as NSString).lastPathComponent
            for warning in conversion.warnings {
                FileHandle.standardError.write(Data("WARNING: \(label) line \(warning.line): \(warning.message)\n".utf8))
            }
            let yaml = JobsFile.dump(conversion.jobs)
            guard let toFile else { return print(yaml, terminator: "") }
            do {
                try Data(yaml.utf8).write(to: URL(fileURLWithPath: toFile), options: .atomic)
            } catch {
                throw CLIError.user("cannot write \(toFile): \(error.localizedDescription)")
            }
        }
    }
}

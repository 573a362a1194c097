import ArgumentParser
import Foundation
import KilnAPI
import KilnCore
import KilnFormats

extension JobsCommand {
    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load", abstract: "Make the tool's jobs match a jobs.yaml: create, change and delete.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The jobs.yaml file.") var file: String
        @Option(help: "Load only this job of the file.") var job: String?
        @Flag(name: .customLong("dry-run"), help: "Say what would change, and change nothing.") var dryRun = false
        @Flag(help: "Refuse unknown keys instead of warning.") var strict = false

        func run() async throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CLIError.toolforge(.user("cannot read \(file): \(error.localizedDescription)"))
            }
            let context = try await Context.make(connection)
            let request = LoadJobsRequest(
                text: text, fileName: (file as NSString).lastPathComponent, job: job, dryRun: dryRun, strict: strict)
            let response: JobLoadResponse = try await JobsCommand.toolforgeErrors {
                try await context.client.post(context.base + "/jobs/load", request)
            }
            JobsCommand.warn(response.plan.warnings)
            let plan = response.plan
            let verbs = dryRun ? ("would create", "would change", "would delete") : ("created", "changed", "deleted")
            for (verb, names) in [(verbs.0, plan.created), (verbs.1, plan.changed), (verbs.2, plan.deleted)] where !names.isEmpty {
                print("\(verb): \(names.joined(separator: ", "))")
            }
            if plan.isEmpty { print(dryRun ? "nothing would change" : "nothing changed") }
        }
    }

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dump", abstract: "Print the tool's jobs as a jobs.yaml.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: [.customShort("f"), .customLong("to-file")], help: "Write to this file instead.") var toFile: String?

        func run() async throws {
            let context = try await Context.make(connection)
            let response: JobListResponse = try await JobsCommand.toolforgeErrors { try await context.client.get(context.base + "/jobs") }
            let text = JobsFile.dump(response.jobs.map(\.spec))
            guard let toFile else { return print(text, terminator: "") }
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: toFile), options: .atomic)
            } catch {
                throw CLIError.toolforge(.user("cannot write \(toFile): \(error.localizedDescription)"))
            }
        }
    }
}

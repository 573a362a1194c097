import Foundation
import KilnAPI
import KilnCore
import KilnFormats

/// `jstop NAME`: stops the job jsub or jstart started (deletes it, as `kiln jobs delete`), and
/// says so as qdel did; a job that does not run is an error (`No job 'NAME' is currently queued
/// or running`, exit 1), as jstop's. A scheduled job is not jstop's to stop: it is left alone.
struct GridStop {
    let arguments: [String]

    func run() async -> Int32 {
        if ["-help", "--help", "-h"].contains(arguments.first) {
            print(GridCommand.usage(nil))
            return 0
        }
        do {
            let split = try GridCommand.split(arguments, optionsEndAtProgram: false)
            guard split.words.count == 1, let given = split.words.first else {
                GridCommand.complain(GridCommand.usage(nil))
                return 1
            }
            let client = try split.connection.client()
            let tool = try await split.connection.resolveTool(using: client)
            let api = GridAPI(client: client, base: "/v1/tools/\(PathComponent.escape(tool))")
            // jsub gave a name it made up a Kiln form (`Bot.sh` ran as `bot`): found by either.
            let name = (try? JobName.validate(given)) != nil ? given : GridJobName.sanitized(given)
            let found = try await api.status(of: name)
            if let found, found.spec.kind == .schedule {
                GridCommand.complain(
                    "jstop: '\(name)' is a scheduled job: jstop stops what jsub and jstart started; `kiln jobs delete \(name)` removes it")
                return 1
            }
            guard let status = found, status.isActive else {
                GridCommand.complain("No job '\(given)' is currently queued or running")
                return 1
            }
            let _: JobDeletedResponse = try await client.delete(api.job(name))
            let number = status.runs.first.map { "\($0.id)" } ?? "\"\(name)\""
            print("tools.\(tool) has registered the job \(number) for deletion")
            return 0
        } catch {
            GridCommand.complain("jstop: \(GridCommand.text(of: error))")
            return 1
        }
    }
}

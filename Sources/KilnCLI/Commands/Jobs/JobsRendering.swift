import ArgumentParser
import Foundation
import KilnCore
import KilnFormats

/// `list`, `list --long` and `show` in Toolforge's labels and tables (tabulate's `pretty` for
/// lists, `grid` for `show`), as users' scripts read them.
enum JobsRendering {
    /// `jobs list --output`: Toolforge's three shapes.
    enum ListOutput: String, CaseIterable, ExpressibleByArgument {
        case normal, long, name
    }

    static func list(_ jobs: [JobStatus], as output: ListOutput) -> String {
        switch output {
        case .normal: table(jobs)
        // Only the names, one a line, no header: for scripts (`for job in $(toolforge jobs list -o name)`).
        case .name: jobs.map(\.name).joined(separator: "\n")
        case .long: longTable(jobs)
        }
    }

    static func table(_ jobs: [JobStatus]) -> String {
        Tabulate.render(jobs.map { [$0.name, type($0), $0.status] }, headers: ["Job name:", "Job type:", "Status:"], format: .pretty)
    }

    /// Toolforge's long columns, in its order.
    static func longTable(_ jobs: [JobStatus]) -> String {
        Tabulate.render(
            jobs.map { job in
                [
                    job.name, job.command, type(job), job.image, port(job), job.filelog ? "yes" : "no", job.outputLog ?? "-",
                    job.errorLog ?? "-", job.emails, resources(job), job.replicas.map(String.init) ?? "", job.mount, retry(job),
                    timeout(job), healthCheck(job), job.status,
                ]
            },
            headers: [
                "Job name:", "Command:", "Job type:", "Image:", "Port:", "File log:", "Output log:", "Error log:", "Emails:",
                "Resources:", "Replicas:", "Mounts:", "Retry:", "Timeout:", "Health check:", "Status:",
            ], format: .pretty)
    }

    static func show(_ job: JobStatus) -> String {
        var block = GridBlock()
        block.add("Job name", job.name)
        block.add("Command", job.command)
        block.add("Job type", type(job))
        if let schedule = job.schedule {
            block.add("Schedule", schedule + (job.scheduleExpression.map { $0 == schedule ? "" : " (\($0))" } ?? "") + " " + (job.timeZone ?? "UTC"))
        }
        block.add("Image", job.image)
        block.add("File log", job.filelog ? "yes" : "no")
        block.add("Output log", job.outputLog ?? "-")
        block.add("Error log", job.errorLog ?? "-")
        block.add("Emails", job.emails)
        block.add("Resources", resources(job))
        block.add("Mounts", job.mount)
        block.add("Retry", retry(job))
        if let timeout = job.timeout { block.add("Timeout", "\(timeout) s") }
        if let replicas = job.replicas { block.add("Replicas", String(replicas)) }
        if job.port != nil { block.add("Port", port(job) + (job.address.map { ", reached at \($0)" } ?? "")) }
        block.add("Health check", healthCheck(job))
        block.add("Status", job.status)
        block.add("Hints", job.hints.isEmpty ? "-" : job.hints)
        for placement in job.gridPlacements { block.add("Grid job", gridJob(placement)) }
        var text = block.render()
        if !job.runs.isEmpty {
            let runs = job.runs.map { run in
                [
                    String(run.id), run.trigger.rawValue + (run.replica.map { " #\($0)" } ?? ""),
                    run.startedAt.map(JobStatus.timestamp) ?? "-", run.endedAt.map(JobStatus.timestamp) ?? "-", run.summary,
                ]
            }
            text += "\nRecent runs:\n" + Tabulate.render(runs, headers: ["Run:", "Trigger:", "Started:", "Ended:", "Result:"], format: .pretty)
        }
        return text
    }

    /// `show`'s `| Label: | value |` rows.
    struct GridBlock {
        var rows: [[String]] = []
        mutating func add(_ label: String, _ value: String) { rows.append([label + ":", value]) }
        func render() -> String { Tabulate.render(rows, format: .grid) }
    }

    static func type(_ job: JobStatus) -> String { job.jobType }

    static func resources(_ job: JobStatus) -> String { "mem: \(job.memory), cpu: \(job.cpu)" }

    /// "1234 on exec1 (Running)", "1235 (Pending: Resources)": a grid's job as the grid says it.
    static func gridJob(_ placement: GridPlacement) -> String {
        var text = placement.jobID
        if let host = placement.host { text += " on \(host)" }
        if let queue = placement.queue { text += " in \(queue)" }
        if let state = placement.state { text += " (\(state)" + (placement.reason.map { ": \($0)" } ?? "") + ")" }
        return text
    }

    static func retry(_ job: JobStatus) -> String { job.retry == 0 ? "no" : "yes: \(job.retry) time(s)" }

    /// "8080/tcp", or "none", as Toolforge writes it.
    static func port(_ job: JobStatus) -> String {
        job.port.map { "\($0)/\(job.portProtocol ?? JobSpec.PortProtocol.tcp.rawValue)" } ?? "none"
    }

    /// "http: /healthz", "script: ./check.sh" or "none", as Toolforge writes it.
    static func healthCheck(_ job: JobStatus) -> String {
        job.healthCheck ?? "none"
    }

    static func timeout(_ job: JobStatus) -> String { job.timeout.map { "yes: \($0)s" } ?? "no" }
}

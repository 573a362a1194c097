import Foundation
import KilnCore

/// `list`, `list --long` and `show` in Toolforge's labels.
enum JobsRendering {
    static func table(_ jobs: [JobStatus]) -> String {
        var table = TextTable("Job name:", "Job type:", "Status:")
        for job in jobs { table.add(job.name, type(job), job.status) }
        return table.render()
    }

    static func longTable(_ jobs: [JobStatus]) -> String {
        var table = TextTable(
            "Job name:", "Command:", "Job type:", "Image:", "File log:", "Output log:", "Error log:", "Emails:", "Resources:",
            "Mounts:", "Retry:", "Status:")
        for job in jobs {
            table.add(
                job.name, job.command, type(job), job.image, job.filelog ? "yes" : "no", job.outputLog ?? "-", job.errorLog ?? "-",
                job.emails, resources(job), job.mount, retry(job), job.status)
        }
        return table.render()
    }

    static func show(_ job: JobStatus) -> String {
        var block = KeyValueBlock()
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
        if let port = job.port { block.add("Port", String(port) + (job.address.map { ", reached at \($0)" } ?? "")) }
        if let script = job.healthCheckScript { block.add("Health check", script) }
        block.add("Status", job.status)
        block.add("Hints", job.hints.isEmpty ? "-" : job.hints)
        var text = block.render()
        if !job.runs.isEmpty {
            var runs = TextTable("RUN", "TRIGGER", "STARTED", "ENDED", "RESULT")
            for run in job.runs {
                runs.add(
                    String(run.id), run.trigger.rawValue + (run.replica.map { " #\($0)" } ?? ""),
                    run.startedAt.map(JobStatus.timestamp) ?? "-", run.endedAt.map(JobStatus.timestamp) ?? "-", run.summary)
            }
            text += "\nRecent runs:\n" + runs.render()
        }
        return text
    }

    static func type(_ job: JobStatus) -> String { job.jobType }

    static func resources(_ job: JobStatus) -> String { "mem: \(job.memory), cpu: \(job.cpu)" }

    static func retry(_ job: JobStatus) -> String { job.retry == 0 ? "no" : "yes: \(job.retry) time(s)" }
}

import KilnCore
import Yams

/// `jobs.yaml`, as `toolforge jobs load` reads it: a YAML list of jobs, each a set of Toolforge's keys
/// (`name`, `command`, `image`, `schedule`, `continuous`, `emails`, `mem`, `cpu`, …). A file that is empty
/// or all comments declares no jobs.
public struct JobsFile: Sendable {
    /// A key the platform does not know (Toolforge warns about those and goes on).
    public struct Warning: Sendable, Hashable {
        public var line: Int
        public var job: String?
        public var field: String
        public var message: String

        public init(line: Int, job: String?, field: String, message: String) {
            self.line = line
            self.job = job
            self.field = field
            self.message = message
        }
    }

    public var jobs: [JobSpec]
    public var warnings: [Warning]
    /// Where each job's keys are written: job name → key → line. The server checks some values
    /// only against its own catalogue (the image); it names their line with this.
    public var keyLines: [String: [String: Int]] = [:]

    public static let fileName = "jobs.yaml"

    public init(jobs: [JobSpec] = [], warnings: [Warning] = []) {
        self.jobs = jobs
        self.warnings = warnings
    }

    /// `error` (about one job's field, as the server's checks say them) placed in the file as the
    /// reader's own errors are: "jobs.yaml line 7, job 'daily-report', image: …".
    public func locating(_ error: KilnError, fileName: String) -> KilnError {
        guard let job = error.context["job"], let field = error.context["field"], let line = keyLines[job]?[field],
            error.context["line"] == nil
        else { return error }
        var located = error
        located.message = "\(fileName) line \(line), job '\(job)', \(field): \(error.message)"
        located.context["file"] = fileName
        located.context["line"] = String(line)
        return located
    }

    /// Reads a whole jobs.yaml. Every job is checked (field values, JobSpec.validate(), names unique); the first
    /// problem is thrown as a KilnError whose message names the file, the line, the job (when known) and the field,
    /// e.g. "jobs.yaml line 7, job 'daily-report', retry: retry must be from 0 to 5, not 9", and whose context has
    /// "file", "line", "job", "field". Unknown keys are warnings with their line (Toolforge's behaviour), errors when strict.
    public static func parse(_ text: String, fileName: String = Self.fileName, strict: Bool = false) throws(KilnError) -> JobsFile {
        let document = YAMLDocument(fileName: fileName)
        guard let root = try document.root(text), !root.isYAMLNull else { return JobsFile() }
        guard let entries = root.sequence else {
            throw document.error(
                "expected a list of jobs ('- name: ...' entries), found \(root.kindName)", at: root, field: nil)
        }
        var file = JobsFile()
        var firstLines: [String: Int] = [:]
        for entry in entries {
            let fields = try Fields(entry, document: document)
            let spec = try fields.spec(strict: strict, warnings: &file.warnings)
            if let first = firstLines[spec.name] {
                throw fields.error(
                    "the name '\(spec.name)' is already used by the job at line \(first)", field: "name",
                    at: fields.keyNode("name"))
            }
            firstLines[spec.name] = fields.line
            file.keyLines[spec.name] = Dictionary(
                fields.entries.map { ($0.name, $0.key.mark?.line ?? fields.line) }, uniquingKeysWith: { first, _ in first })
            file.jobs.append(spec)
        }
        return file
    }
}

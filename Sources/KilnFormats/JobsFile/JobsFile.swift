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

    public static let fileName = "jobs.yaml"

    public init(jobs: [JobSpec] = [], warnings: [Warning] = []) {
        self.jobs = jobs
        self.warnings = warnings
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
            file.jobs.append(spec)
        }
        return file
    }
}

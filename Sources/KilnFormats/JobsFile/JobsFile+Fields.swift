import KilnCore
import Yams

extension JobsFile {
    /// The keys `toolforge jobs load` knows: every option of its `jobs run` (its loader turns each
    /// key into one), and Kiln's `timezone`.
    static let knownKeys: [String] = [
        "name", "command", "image", "schedule", "continuous", "wait", "retry", "emails", "mem", "cpu", "no-filelog",
        "filelog", "filelog-stdout", "filelog-stderr", "mount", "port", "replicas", "health-check-script",
        "health-check-http", "timeout", "timezone",
    ]

    /// The longest `wait:` in seconds (a day, as a run's longest timeout).
    static let maximumWait = JobSpec.maximumTimeout

    /// One entry of the list: its keys in the order written (YAML merge keys, `<<: *defaults`, resolved
    /// as PyYAML resolves them), each with its nodes for their lines, read into a `JobSpec`.
    struct Fields {
        struct Entry {
            var name: String
            var key: Node
            var value: Node
        }

        let document: YAMLDocument
        /// The line of the entry (its first key).
        let line: Int
        let node: Node
        let entries: [Entry]
        /// The job's name as written, when it is given as a single value: errors name the job with it.
        let job: String?

        init(_ node: Node, document: YAMLDocument) throws(KilnError) {
            self.document = document
            self.node = node
            line = node.mark?.line ?? 0
            guard let mapping = node.mapping else {
                let found = node.isYAMLNull ? "an empty entry" : node.kindName
                throw document.error(
                    "expected a job (keys such as 'name', 'command', 'image'), found \(found)", at: node, field: nil)
            }
            entries = try Self.entries(of: mapping, document: document)
            job = entries.first { $0.name == "name" }.flatMap { $0.value.isYAMLNull ? nil : $0.value.scalarText }
        }

        /// A mapping's keys, explicit ones first as written, then those merged in by `<<` that are not
        /// given explicitly (earlier merged mappings win over later ones).
        static func entries(of mapping: Node.Mapping, document: YAMLDocument) throws(KilnError) -> [Entry] {
            // Yams refuses a key given twice in one mapping (a YAMLDocument error).
            var explicit: [Entry] = []
            var merged: [Entry] = []
            for (key, value) in mapping {
                guard let name = key.scalarText else {
                    throw document.error("a key must be a single word, found \(key.kindName)", at: key, field: nil)
                }
                if name == "<<", key.scalar?.style == .plain {
                    let sources = value.sequence.map(Array.init) ?? [value]
                    for source in sources {
                        guard let source = source.mapping else {
                            throw document.error(
                                "'<<' merges a set of keys (an anchor such as '*defaults'), found \(source.kindName)",
                                at: source, field: "<<")
                        }
                        merged += try entries(of: source, document: document)
                    }
                    continue
                }
                explicit.append(Entry(name: name, key: key, value: value))
            }
            var result = explicit
            for entry in merged where !result.contains(where: { $0.name == entry.name }) {
                result.append(entry)
            }
            return result
        }

        func keyNode(_ name: String) -> Node? { entries.first { $0.name == name }?.key }

        /// An error about this job: "jobs.yaml line 7, job 'daily-report', retry: …", with "file", "line",
        /// "job" (when known) and "field" in its context.
        func error(_ message: String, field: String?, at node: Node?, code: KilnError.Code = .badRequest) -> KilnError {
            let location = job.map { job in "job '\(job)'" + (field.map { ", \($0)" } ?? "") } ?? field
            var error = document.error(message, at: node ?? self.node, field: location)
            error.code = code
            error.context["field"] = field
            error.context["job"] = job
            return error
        }

        /// The `JobSpec` this entry declares, checked: the first problem in the order the keys are written,
        /// then missing keys, then the combinations (`JobSpec.validate()`).
        func spec(strict: Bool, warnings: inout [Warning]) throws(KilnError) -> JobSpec {
            var spec = JobSpec(name: "", command: "", image: "")
            var given: Set<String> = []
            var wait = false
            var noFilelog: Bool?
            var filelog: Bool?
            for entry in entries {
                guard JobsFile.knownKeys.contains(entry.name) else {
                    let hint = JobsFile.suggestion(for: entry.name).map { " (did you mean '\($0)'?)" } ?? ""
                    if strict {
                        throw error("unknown key '\(entry.name)'\(hint)", field: entry.name, at: entry.key)
                    }
                    warnings.append(
                        Warning(
                            line: entry.key.mark?.line ?? line, job: job, field: entry.name,
                            message: "unknown key '\(entry.name)' is ignored\(hint)"))
                    continue
                }
                // `key:` with no value (or `~`, `null`) is as if the key were not there.
                if entry.value.isYAMLNull { continue }
                given.insert(entry.name)
                switch entry.name {
                case "name": spec.name = try text(entry)
                case "command": spec.command = try text(entry)
                case "image": spec.image = try text(entry)
                case "schedule": spec.schedule = try text(entry)
                case "continuous": spec.continuous = try bool(entry)
                case "wait": wait = try waits(entry)
                case "retry": spec.retry = try integer(entry)
                case "emails": spec.emails = try choice(entry)
                case "mem": spec.memory = try value(entry, MemorySize.init(parsing:))
                case "cpu": spec.cpu = try value(entry, CPUQuantity.init(parsing:))
                case "no-filelog": noFilelog = try bool(entry)
                case "filelog":
                    // Toolforge's own dump writes `filelog: 'yes'`; its loader takes it, with a warning.
                    if entry.value.scalarText == "yes" {
                        filelog = true
                        warnings.append(
                            Warning(
                                line: entry.key.mark?.line ?? line, job: job, field: entry.name,
                                message: "filelog: 'yes' is read as true; write true"))
                    } else {
                        filelog = try bool(entry)
                    }
                case "filelog-stdout": spec.filelogStdout = try text(entry)
                case "filelog-stderr": spec.filelogStderr = try text(entry)
                case "mount": spec.mount = try choice(entry)
                case "port":
                    let port = try value(entry, JobPort.init(parsing:))
                    spec.port = port.number
                    spec.portProtocol = port.portProtocol
                case "replicas": spec.replicas = try integer(entry)
                case "health-check-script": spec.healthCheckScript = try text(entry)
                case "health-check-http": spec.healthCheckHTTP = try text(entry)
                case "timeout": spec.timeout = try integer(entry)
                case "timezone": spec.timeZone = try text(entry)
                default: break
                }
            }
            for field in ["name", "command", "image"] where !given.contains(field) {
                throw error("every job needs a \(field)", field: field, at: node)
            }
            if noFilelog == true && filelog == true {
                throw error("no-filelog: true and filelog: true say opposite things", field: "no-filelog", at: keyNode("no-filelog"))
            }
            spec.filelog = noFilelog != true && filelog != false
            // A tool's own image runs in its application folder, without the home (Toolforge's default).
            if !given.contains("mount") { spec.mount = JobSpec.Mount.default(for: spec.image) }
            if wait {
                if spec.continuous {
                    throw error("a continuous job runs until stopped: there is nothing to wait for", field: "wait", at: keyNode("wait"))
                }
                if spec.schedule != nil {
                    throw error("a scheduled job runs on its schedule: there is nothing to wait for", field: "wait", at: keyNode("wait"))
                }
            }
            do throws(KilnError) {
                try spec.validate()
            } catch {
                var field = error.context["field"]
                if field == "no-filelog" && !given.contains("no-filelog") && given.contains("filelog") { field = "filelog" }
                throw self.error(error.message, field: field, at: field.flatMap(keyNode), code: error.code)
            }
            return spec
        }

        // MARK: Values

        func text(_ entry: Entry) throws(KilnError) -> String {
            guard let text = entry.value.scalarText else {
                throw error("expected a single value, found \(entry.value.kindName)", field: entry.name, at: entry.key)
            }
            return text
        }

        /// YAML's booleans as YAML 1.2 writes them; `yes`, `no`, `on`, `off` are refused rather than guessed.
        func bool(_ entry: Entry) throws(KilnError) -> Bool {
            switch try text(entry) {
            case "true", "True": return true
            case "false", "False": return false
            case let text: throw error("\(entry.name) must be true or false, not '\(text)'", field: entry.name, at: entry.key)
            }
        }

        /// `wait:` as Toolforge's loader takes it: true, false, or a number of seconds (0 waits not).
        func waits(_ entry: Entry) throws(KilnError) -> Bool {
            let text = try text(entry)
            if let seconds = Int(text) {
                guard (0...JobsFile.maximumWait).contains(seconds) else {
                    throw error(
                        "wait must be true, false or seconds from 0 to \(JobsFile.maximumWait), not \(seconds)", field: entry.name,
                        at: entry.key)
                }
                return seconds > 0
            }
            switch text {
            case "true", "True": return true
            case "false", "False": return false
            default:
                throw error("wait must be true, false or a number of seconds, not '\(text.prefix(64))'", field: entry.name, at: entry.key)
            }
        }

        func integer(_ entry: Entry) throws(KilnError) -> Int {
            let text = try text(entry)
            guard let value = Int(text) else {
                throw error("\(entry.name) must be a whole number, not '\(text)'", field: entry.name, at: entry.key)
            }
            return value
        }

        func choice<Choice: RawRepresentable & CaseIterable>(_ entry: Entry) throws(KilnError) -> Choice
        where Choice.RawValue == String {
            let text = try text(entry)
            guard let value = Choice(rawValue: text) else {
                let choices = Choice.allCases.map(\.rawValue).joined(separator: ", ")
                throw error("\(entry.name) must be one of \(choices), not '\(text)'", field: entry.name, at: entry.key)
            }
            return value
        }

        func value<Value>(_ entry: Entry, _ parse: (String) throws(KilnError) -> Value) throws(KilnError) -> Value {
            let text = try text(entry)
            do throws(KilnError) {
                return try parse(text)
            } catch {
                throw self.error(error.message, field: entry.name, at: entry.key, code: error.code)
            }
        }
    }

    /// The known key an unknown one was probably meant to be: `memory` → `mem`, `no_filelog` → `no-filelog`,
    /// `email` → `emails`.
    static func suggestion(for key: String) -> String? {
        let dashed = String(key.lowercased().map { $0 == "_" ? "-" : $0 })
        if knownKeys.contains(dashed) { return dashed }
        if let prefix = knownKeys.filter({ dashed.hasPrefix($0) }).max(by: { $0.count < $1.count }) { return prefix }
        let longer = knownKeys.filter { $0.hasPrefix(dashed) }
        return dashed.count >= 3 && longer.count == 1 ? longer[0] : nil
    }
}

extension Node {
    /// A plain `~`, `null` or nothing at all: YAML's null.
    var isYAMLNull: Bool {
        guard let scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}

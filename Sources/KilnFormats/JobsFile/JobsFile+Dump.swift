import KilnCore
import Yams

extension JobsFile {
    /// The jobs as a jobs.yaml (for `kiln jobs dump`): keys in alphabetical order as Toolforge's dump writes them,
    /// defaults left out, strings quoted when YAML needs it; parse(dump(x)).jobs == x.
    public static func dump(_ jobs: [JobSpec]) -> String {
        guard !jobs.isEmpty else { return "[]\n" }
        var lines: [String] = []
        for job in jobs {
            for (index, (key, value)) in fields(of: job).enumerated() {
                lines.append((index == 0 ? "- " : "  ") + "\(key): \(value)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A job's keys and their values as YAML writes them, sorted by key; defaults are left out.
    static func fields(of job: JobSpec) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("name", yamlScalar(job.name)),
            ("command", yamlScalar(job.command)),
            ("image", yamlScalar(job.image)),
        ]
        if let schedule = job.schedule { fields.append(("schedule", yamlScalar(schedule))) }
        if job.continuous { fields.append(("continuous", "true")) }
        if job.retry != 0 { fields.append(("retry", "\(job.retry)")) }
        if job.emails != .none { fields.append(("emails", job.emails.rawValue)) }
        if let memory = job.memory { fields.append(("mem", yamlScalar(memory.description))) }
        if let cpu = job.cpu { fields.append(("cpu", yamlScalar(cpu.description))) }
        if !job.filelog { fields.append(("no-filelog", "true")) }
        if let path = job.filelogStdout { fields.append(("filelog-stdout", yamlScalar(path))) }
        if let path = job.filelogStderr { fields.append(("filelog-stderr", yamlScalar(path))) }
        if job.mount != .default(for: job.image) { fields.append(("mount", job.mount.rawValue)) }
        if let timeout = job.timeout { fields.append(("timeout", "\(timeout)")) }
        if let zone = job.timeZone { fields.append(("timezone", yamlScalar(zone))) }
        if let port = job.jobPort {
            // tcp is the default, left out as the other defaults are.
            switch port.portProtocol {
            case .tcp: fields.append(("port", "\(port.number)"))
            case .udp: fields.append(("port", port.description))
            }
        }
        if let replicas = job.replicas { fields.append(("replicas", "\(replicas)")) }
        if let script = job.healthCheckScript { fields.append(("health-check-script", yamlScalar(script))) }
        if let path = job.healthCheckHTTP { fields.append(("health-check-http", yamlScalar(path))) }
        return fields.sorted { $0.0 < $1.0 }
    }

    /// A string as a YAML value that reads back as that same string: plain when YAML would take it as a
    /// string (not `true`, `1`, `null`, `@daily`, `a: b`, …), single-quoted when it only needs quoting,
    /// double-quoted with escapes when it holds line breaks, tabs or characters YAML cannot hold as they are.
    static func yamlScalar(_ text: String) -> String {
        if text.unicodeScalars.contains(where: { !isQuotable($0) }) { return doubleQuoted(text) }
        if isPlain(text) { return text }
        return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
    }

    /// Characters a single-quoted or plain scalar holds as they are (YAML's printable ones, less the
    /// line breaks and the byte order mark).
    static func isQuotable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E, 0xA0...0xD7FF, 0xE000...0xFEFE, 0xFF00...0xFFFD, 0x10000...0x10FFFF:
            scalar.value != 0x2028 && scalar.value != 0x2029
        default:
            false
        }
    }

    static func isPlain(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last, first != " ", last != " ", last != ":" else { return false }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) { return false }
        if text.contains(": ") || text.contains(" #") { return false }
        return Resolver.default.resolveTag(of: Node(text)) == .str
    }

    static func doubleQuoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case "\0": result += "\\0"
            case _ where isQuotable(scalar): result.unicodeScalars.append(scalar)
            case _ where scalar.value <= 0xFF: result += "\\x" + hex(scalar.value, width: 2)
            case _ where scalar.value <= 0xFFFF: result += "\\u" + hex(scalar.value, width: 4)
            default: result += "\\U" + hex(scalar.value, width: 8)
            }
        }
        return result + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

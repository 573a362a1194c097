import Foundation
import KilnCore

/// `service.manifest` in a tool's home: what `webservice start` declared, written by the platform
/// (as Toolforge writes it: `web: TYPE`, `backend`, …) and removed by `stop`. The store is the
/// record the monitor acts on; this file tells the tool's maintainers, and their scripts, what runs.
public enum ServiceManifest {
    public static let fileName = "service.manifest"

    public static func render(_ spec: WebserviceSpec, tool: ToolName? = nil, at date: Date = Date()) -> String {
        var lines = [
            "# This file is used by Kiln's webservice monitor to know what to keep running.",
            "# It is written by 'kiln webservice start' and removed by 'stop': do not edit it.",
            "# Generated at \(ISO8601DateFormatter().string(from: date))",
            "backend: local",
            "version: 1",
            "web: \(spec.type.name)",
            "replicas: \(spec.replicas)",
            "mem: \(spec.memory)",
            "cpu: '\(spec.cpu)'",
            "health-check-path: \(quoted(spec.healthCheckPath))",
        ]
        if spec.type.family == .buildservice {
            // As Toolforge writes it: the image, and no home mounted (the image's folder is the process's).
            if let image = spec.image ?? tool.map({ "tool-\($0)/\($0):latest" }) { lines.append("buildservice-image: \(quoted(image))") }
            lines.append("mount: none")
        }
        if let command = spec.command { lines.append("command: \(quoted(command))") }
        if !spec.extraArguments.isEmpty {
            lines.append("extra_args:")
            lines += spec.extraArguments.map { "  - \(quoted($0))" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Single-quoted YAML: only the quote itself needs escaping.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

import KilnCore
import Yams

/// `service.template` in a tool's home: the defaults of `webservice start`, as Toolforge users
/// write them (`type`, `backend`, `cpu`, `mem`, `replicas`, `extra_args`, `health-check-path`, …).
/// Every field is optional; flags given to `start` override them.
public struct ServiceTemplate: Sendable, Hashable, Codable {
    public var type: WebserviceType?
    public var command: String?
    public var replicas: Int?
    public var memory: MemorySize?
    public var cpu: CPUQuantity?
    public var healthCheckPath: String?
    public var extraArguments: [String]?
    /// `buildservice-image`: the image a `buildservice` webservice runs.
    public var image: String?
    /// Keys the platform does not know or does not use, each with its line.
    public var warnings: [FileWarning] = []

    public static let fileName = "service.template"
    /// The most of a template the platform reads: what the parser takes of any user's file.
    public static let maximumBytes = YAMLDocument.maximumBytes

    /// Keys of Toolforge's template and manifest that mean nothing here (its backends, the grid's
    /// release, mounts, the manifest's version); accepted silently.
    static let ignoredKeys: Set<String> = ["backend", "mount", "canonical", "release", "version", "distribution"]

    public init() {}

    public init(parsing text: String, fileName: String = Self.fileName) throws(KilnError) {
        let document = YAMLDocument(fileName: fileName)
        guard let root = try document.root(text) else { return }
        guard let mapping = root.mapping else {
            throw document.error("expected keys such as 'type: python3.11', found \(root.kindName)", at: root, field: nil)
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalarText else { continue }
            func text() throws(KilnError) -> String {
                guard let text = value.scalarText, !text.isEmpty else {
                    throw document.error("expected a single value, found \(value.kindName)", at: value, field: key)
                }
                return text
            }
            do throws(KilnError) {
                switch key {
                // `web` is the manifest's name for it: a manifest read as a template means the same.
                case "type", "web": type = try WebserviceType(parsing: text())
                case "command": command = try text()
                case "replicas":
                    let written = try text()
                    guard let count = Int(written), (1...WebserviceSpec.maximumReplicas).contains(count) else {
                        throw KilnError(
                            .invalidWebservice, "replicas must be a whole number from 1 to \(WebserviceSpec.maximumReplicas), not '\(written)'")
                    }
                    replicas = count
                case "mem": memory = try MemorySize(parsing: text())
                case "cpu": cpu = try CPUQuantity(parsing: text())
                case "health-check-path": healthCheckPath = try text()
                case "extra_args": extraArguments = try Self.arguments(value, key: key, document: document)
                case "buildservice-image": image = try text()
                default:
                    if !Self.ignoredKeys.contains(key) {
                        warnings.append(FileWarning(file: fileName, line: keyNode.mark?.line, message: "unknown key '\(key)' is ignored"))
                    }
                }
            } catch where error.context["file"] == nil {
                throw document.error(error.message, at: value, field: key)
            }
        }
    }

    /// `extra_args` as a YAML list (block or `[...]` flow style) or one string of words.
    static func arguments(_ node: Node, key: String, document: YAMLDocument) throws(KilnError) -> [String] {
        if let sequence = node.sequence {
            var result: [String] = []
            for item in sequence {
                guard let text = item.scalarText else {
                    throw document.error("each argument must be a single value", at: item, field: key)
                }
                result.append(text)
            }
            return result
        }
        guard let text = node.scalarText else {
            throw document.error("expected a list of arguments", at: node, field: key)
        }
        return text.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// The declaration `start` makes: flags over this template over the platform's defaults.
    public func merged(with flags: ServiceTemplate) throws(KilnError) -> WebserviceSpec {
        guard let type = flags.type ?? type else {
            throw KilnError(
                .invalidWebservice,
                "say which type of webservice to start (kiln webservice TYPE start), or set 'type' in service.template; `kiln webservice types` lists them",
                context: ["field": "type"])
        }
        return try WebserviceSpec(
            type: type, command: flags.command ?? command, replicas: flags.replicas ?? replicas ?? 1,
            memory: flags.memory ?? memory ?? WebserviceSpec.defaultMemory, cpu: flags.cpu ?? cpu ?? WebserviceSpec.defaultCPU,
            healthCheckPath: flags.healthCheckPath ?? healthCheckPath ?? "/",
            extraArguments: flags.extraArguments ?? extraArguments ?? [],
            // A template's image goes with the buildservice type only (a template may keep it while
            // another type is started with a flag).
            image: type.family == .buildservice ? flags.image ?? image : flags.image)
    }
}

extension Node {
    var kindName: String {
        switch self {
        case .scalar: "a single value"
        case .mapping: "a set of keys"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

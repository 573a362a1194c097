import KilnCore
import Yams

/// A YAML file read for its line numbers: every error and warning about a user's file names the
/// file, the line and the field, so that the user can go straight to it.
struct YAMLDocument {
    let fileName: String

    /// The largest file read: far more than any real jobs.yaml or service.template, small enough
    /// that reading one is cheap.
    static let maximumBytes = 1 << 20

    /// The document's root node; nil for an empty file (or one whose content is all comments).
    /// A file over `maximumBytes`, or one whose aliases expand past `YAMLExpansion.maximumNodes`
    /// nodes, is refused before it is composed.
    func root(_ text: String) throws(KilnError) -> Node? {
        let size = text.utf8.count
        guard size <= Self.maximumBytes else {
            throw KilnError(
                .badRequest, "\(fileName): the file is too large (\(size) bytes; at most \(Self.maximumBytes))",
                context: ["file": fileName])
        }
        switch YAMLExpansion.count(text) {
        case .within:
            break
        case .exceeds(let line):
            throw KilnError(
                .badRequest,
                "\(fileName) line \(line): the document expands to more than \(YAMLExpansion.maximumNodes) values (aliases included)",
                context: ["file": fileName, "line": String(line)])
        }
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw KilnError(.badRequest, "\(fileName): not valid YAML: \(Self.describe(error))", context: Self.context(error, file: fileName))
        } catch {
            throw KilnError(.badRequest, "\(fileName): not valid YAML: \(error)", context: ["file": fileName])
        }
    }

    func error(_ message: String, at node: Node?, field: String?) -> KilnError {
        var context = ["file": fileName]
        var location = fileName
        if let line = node?.mark?.line {
            context["line"] = String(line)
            location += " line \(line)"
        }
        if let field {
            context["field"] = field
            location += ", \(field)"
        }
        return KilnError(.badRequest, "\(location): \(message)", context: context)
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            "\(problem)\(context.map { " \($0.text)" } ?? "") at line \(mark.line), column \(mark.column)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            // The context's text is the whole mapping: the key and its line say enough.
            "\(duplicates.map { "'\($0)'" }.joined(separator: ", ")) given twice in the mapping at line \(context.mark.line)"
        default:
            "\(error)"
        }
    }

    static func context(_ error: YamlError, file: String) -> [String: String] {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _):
            ["file": file, "line": String(mark.line)]
        case .duplicatedKeysInMapping(let duplicates, let context):
            ["file": file, "line": String(context.mark.line), "field": duplicates.first ?? ""]
        default:
            ["file": file]
        }
    }
}

/// A warning about a user's file that does not stop it from being used (an unknown key).
public struct FileWarning: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String { "\(file)\(line.map { " line \($0)" } ?? ""): \(message)" }
}

extension Node {
    /// A scalar's text; nil for a mapping or a sequence.
    var scalarText: String? { scalar?.string }
}

// Yams' own copy of libyaml. Yams exposes only the composed tree, and composing is where an alias
// bomb costs: Yams hashes every mapping's keys (to find duplicates), and a key that is an alias
// of a large node is hashed in full, once per use. libyaml's events cost nothing per alias.
import CYaml

/// How many nodes a YAML document has once every alias is expanded (a "billion laughs" document
/// has billions), counted from libyaml's events before anything is composed: an alias counts as
/// the whole node it names. Counting stops as soon as the limit is passed, so a hostile document
/// costs one linear pass over its text.
enum YAMLExpansion {
    /// The nodes an expansion may have in all.
    static let maximumNodes = 100_000

    enum Outcome: Equatable {
        /// The document expands to at most the limit (or libyaml stopped at a syntax error, which
        /// composing reports with its line).
        case within(nodes: Int)
        /// It expands past the limit; `line` is where the count passed it.
        case exceeds(line: Int)
    }

    static func count(_ text: String, limit: Int = maximumNodes) -> Outcome {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return .within(nodes: 0) }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var counter = Counter(limit: limit)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch counter.count(event) {
                case .goOn: continue
                case .done: return .within(nodes: counter.visited)
                case .exceeded: return .exceeds(line: line)
                }
            }
            return .within(nodes: counter.visited)
        }
    }

    /// The running count: every node as often as it appears in the expansion, and each anchor's
    /// expanded size (the count when its node closed, less the count when it opened).
    struct Counter {
        enum Step { case goOn, done, exceeded }

        let limit: Int
        private(set) var visited = 0
        private var sizes: [String: Int] = [:]
        /// The collections open: their anchor and the count when they opened.
        private var open: [(anchor: String?, start: Int)] = []

        init(limit: Int) { self.limit = limit }

        mutating func count(_ event: yaml_event_t) -> Step {
            switch event.type {
            case YAML_SCALAR_EVENT:
                visited += 1
                if let anchor = Self.text(event.data.scalar.anchor) { sizes[anchor] = 1 }
            case YAML_ALIAS_EVENT:
                // An undefined alias is composing's error; it counts as one node until then.
                visited += Self.text(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1
            case YAML_SEQUENCE_START_EVENT:
                open.append((Self.text(event.data.sequence_start.anchor), visited))
                visited += 1
            case YAML_MAPPING_START_EVENT:
                open.append((Self.text(event.data.mapping_start.anchor), visited))
                visited += 1
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                if let (anchor, start) = open.popLast(), let anchor { sizes[anchor] = visited - start }
            case YAML_STREAM_END_EVENT:
                return .done
            default:
                break
            }
            // Each step adds at most one anchor's size, itself at most the limit: no overflow.
            return visited > limit ? .exceeded : .goOn
        }

        static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: $0) }
        }
    }
}

/// The samples of a text exposition, by `name{labels}` as written (labels in the order written),
/// checking every line is a comment or `series value`.
struct PrometheusSamples {
    private(set) var values: [String: Double] = [:]
    private(set) var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw Malformed(line: String(line)) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw Malformed(line: String(line))
            }
            let series = String(line[..<space])
            guard values[series] == nil else { throw Malformed(line: "repeated: \(line)") }
            values[series] = value
        }
    }

    subscript(_ series: String) -> Double? { values[series] }

    struct Malformed: Error { let line: String }
}

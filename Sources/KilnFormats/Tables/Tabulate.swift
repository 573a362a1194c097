/// Tables as Python's `tabulate` draws them, since Toolforge's CLIs print through it and users'
/// scripts read what they print: `plain` (envvars), `grid` (`jobs show`), `pretty` (`jobs list`,
/// `jobs images`). Its rules, for single-line cells:
/// - a column's width is its longest cell; with headers, at least the header plus 2 (`plain`,
///   `grid`) or the header (`pretty`);
/// - `plain` and `grid` right-align a column whose every non-empty cell is an integer, and
///   left-align the others; `pretty` centres every cell, the extra space to the right;
/// - `plain` joins cells with two spaces and trims each line's end; `grid` and `pretty` frame
///   cells with `| ` and ` |`, `grid` with a rule between rows and `=` under its headers.
/// Widths count characters (tabulate without wcwidth).
public enum Tabulate {
    public enum Format: String, Sendable, CaseIterable {
        case plain, grid, pretty
    }

    public static func render(_ rows: [[String]], headers: [String]? = nil, format: Format) -> String {
        // Cells are single lines; a line break would draw another table.
        let rows = rows.map { $0.map(Self.singleLine) }
        let headers = headers?.map(Self.singleLine)
        let columns = max(headers?.count ?? 0, rows.map(\.count).max() ?? 0)
        guard columns > 0 else { return "" }
        let cells = rows.map { $0 + Array(repeating: "", count: columns - $0.count) }
        let header = headers.map { $0 + Array(repeating: "", count: columns - $0.count) }
        let minimumPadding = format == .pretty ? 0 : 2
        var widths = [Int](repeating: 0, count: columns)
        var alignments = [Alignment](repeating: .center, count: columns)
        for column in 0..<columns {
            let values = cells.map { $0[column] }
            widths[column] = values.map(\.count).max() ?? 0
            if let header { widths[column] = max(widths[column], header[column].count + minimumPadding) }
            if format != .pretty {
                let numeric = values.contains { !$0.isEmpty } && values.allSatisfy { $0.isEmpty || Self.isInteger($0) }
                alignments[column] = numeric ? .right : .left
            }
        }
        func line(_ row: [String]) -> [String] { row.indices.map { align(row[$0], widths[$0], alignments[$0]) } }
        switch format {
        case .plain:
            let lines = (header.map { [$0] } ?? []) + cells
            return lines.map { trimmingEnd(line($0).joined(separator: "  ")) }.joined(separator: "\n")
        case .grid, .pretty:
            func rule(_ fill: Character) -> String { "+" + widths.map { String(repeating: fill, count: $0 + 2) }.joined(separator: "+") + "+" }
            func framed(_ row: [String]) -> String { "| " + line(row).joined(separator: " | ") + " |" }
            var lines = [rule("-")]
            if let header { lines += [framed(header), rule(format == .grid ? "=" : "-")] }
            for (index, row) in cells.enumerated() {
                if format == .grid, index > 0 { lines.append(rule("-")) }
                lines.append(framed(row))
            }
            lines.append(rule("-"))
            return lines.joined(separator: "\n")
        }
    }

    enum Alignment {
        case left, right, center
    }

    static func align(_ text: String, _ width: Int, _ alignment: Alignment) -> String {
        let missing = max(0, width - text.count)
        switch alignment {
        case .left: return text + String(repeating: " ", count: missing)
        case .right: return String(repeating: " ", count: missing) + text
        case .center: return String(repeating: " ", count: missing / 2) + text + String(repeating: " ", count: missing - missing / 2)
        }
    }

    /// What tabulate reads as an integer: optional sign and surrounding blanks, digits.
    static func isInteger(_ text: String) -> Bool {
        var body = Substring(text.trimmingCharacters(in: " \t"))
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        return !body.isEmpty && body.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func singleLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    static func trimmingEnd(_ text: String) -> String {
        var text = Substring(text)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}

extension String {
    fileprivate func trimmingCharacters(in blanks: String) -> String {
        var text = Substring(self)
        while let first = text.first, blanks.contains(first) { text = text.dropFirst() }
        while let last = text.last, blanks.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

import KilnCore

/// Names of grid-era jobs: the grid's (`-N`, or the program's name), and the Kiln job each
/// becomes (a DNS label, see `JobName`).
public enum GridJobName {
    /// The longest name the grid took (a file name: `NAME.out` goes in the home).
    public static let maximumGridLength = 200
    /// Kiln's longest job name.
    public static let maximumLength = 52

    /// `-N` as the grid took it: a file name (logs are `NAME.out`), no `/`, no control characters.
    public static func validateGridName(_ name: String) throws(KilnError) -> String {
        guard !name.isEmpty, name.utf8.count <= maximumGridLength, name != ".", name != "..",
            !name.unicodeScalars.contains(where: { $0 == "/" || $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw KilnError(
                .invalidName,
                "-N \(name.debugDescription.debugDescriptionPrefix): a job name is a file name of at most \(maximumGridLength) bytes, without '/' or control characters",
                context: ["field": "-N", "value": name])
        }
        return name
    }

    /// jsub's default name: the program's file name up to its first dot (`bot.py` → `bot`); a
    /// name of dots only is `unknown`, as jsub said.
    public static func derived(fromProgram program: String) -> String {
        let file = program.split(separator: "/").last.map(String.init) ?? program
        let pieces = file.split(separator: ".", omittingEmptySubsequences: true)
        guard let first = pieces.first else { return "unknown" }
        return String(first)
    }

    /// The Kiln name of a name the user chose (`-N`): itself, or an error saying what Kiln takes
    /// and proposing one.
    public static func kilnName(given name: String) throws(KilnError) -> String {
        do {
            try JobName.validate(name)
            return name
        } catch {
            throw KilnError(
                .invalidName,
                "job name \(name.debugDescription.debugDescriptionPrefix) is not one Kiln takes: lower-case letters, digits and '-', starting with a letter, at most \(maximumLength) characters (such as -N \(sanitized(name)))",
                context: ["field": "-N", "value": name])
        }
    }

    /// A Kiln name close to `name`: lower-cased, every other character a '-', starting with a
    /// letter, at most `length` characters. Always valid.
    public static func sanitized(_ name: String, length: Int = maximumLength) -> String {
        var result = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9": result.unicodeScalars.append(scalar)
            case "A"..."Z": result.unicodeScalars.append(Unicode.Scalar(scalar.value + 32) ?? "-")
            default: if !result.hasSuffix("-") { result += "-" }
            }
            if result.utf8.count > 4 * length { break }  // enough to cut from
        }
        var trimmed = Substring(result).drop { $0 == "-" }
        if let first = trimmed.first, first.isNumber { trimmed = Substring("job-" + String(trimmed)) }
        var cut = String(trimmed.prefix(max(1, length)))
        while cut.hasSuffix("-") { cut.removeLast() }
        return cut.isEmpty ? "job" : cut
    }

    /// The `number`th name for jobs of one base (`base`, `base-2`, `base-3` …), within Kiln's length.
    public static func numbered(_ base: String, _ number: Int) -> String {
        guard number > 1 else { return base }
        let suffix = "-\(number)"
        var stem = String(base.prefix(maximumLength - suffix.count))
        while stem.hasSuffix("-") { stem.removeLast() }
        return stem + suffix
    }
}

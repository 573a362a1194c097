import KilnCore

extension JsubOptions {
    /// Every option jsub took (its own, and qsub's it passed on), by how it is written.
    enum Option: String, CaseIterable {
        case deferral = "-a", binary = "-b", currentDirectory = "-cwd", errorPath = "-e", hard = "-hard", input = "-i"
        case join = "-j", resources = "-l", now = "-now", name = "-N", outputPath = "-o", priority = "-p", queue = "-q"
        case soft = "-soft", sync = "-sync", variables = "-v", workingDirectory = "-wd", memory = "-mem", once = "-once"
        case standardError = "-stderr", continuous = "-continuous", quiet = "-quiet", umask = "-umask"

        var takesValue: Bool {
            switch self {
            case .currentDirectory, .hard, .soft, .once, .standardError, .continuous, .quiet: false
            case .deferral, .binary, .errorPath, .input, .join, .resources, .now, .name, .outputPath, .priority, .queue, .sync,
                .variables, .workingDirectory, .memory, .umask:
                true
            }
        }
    }

    /// Whether `word` is a jsub option that takes a value (nil: not a jsub option).
    public static func takesValue(_ word: String) -> Bool? { Option(rawValue: word)?.takesValue }

    /// The options jsub took, as its usage listed them.
    public static var optionNames: String { Option.allCases.map(\.rawValue).joined(separator: " ") }

    /// The longest path or value an option takes (a Linux path's limit).
    static let maximumValueLength = 4095

    /// Reads a command line (the words after `jsub`). Options come first, each as jsub wrote it
    /// (`-mem 500m`, one dash, its value the next word); the first word that is not an option is
    /// the program, and every word after it is the program's. An unknown option, a missing value
    /// or one out of range is an error saying which.
    public static func parse(_ words: [String], invokedAs invocation: Invocation) throws(KilnError) -> JsubOptions {
        var options = JsubOptions(invocation: invocation, program: "")
        var index = words.startIndex
        while index < words.endIndex, words[index].hasPrefix("-") {
            let word = words[index]
            guard let option = Option(rawValue: word) else {
                throw usage("unknown option \(word.debugDescriptionPrefix) (\(invocation.rawValue) takes \(optionNames))")
            }
            index += 1
            var value = ""
            if option.takesValue {
                guard index < words.endIndex else { throw usage("option \(word) requires an argument") }
                value = words[index]
                index += 1
                guard value.utf8.count <= maximumValueLength, !value.utf8.contains(0) else {
                    throw usage("the value of \(word) is longer than \(maximumValueLength) bytes or holds a NUL byte")
                }
            }
            try options.apply(option, value: value)
        }
        guard index < words.endIndex else {
            throw usage("no program given: usage: \(invocation.rawValue) [options...] program [arg...]")
        }
        options.program = words[index]
        options.arguments = Array(words[(index + 1)...])
        options.programIndex = index
        guard !options.program.isEmpty else { throw usage("the program is an empty word") }
        if options.waits && options.continuous {
            throw usage("-sync y waits for the job to end, and a continuous job does not end", option: "-sync")
        }
        return options
    }

    static func usage(_ message: String, option: String? = nil) -> KilnError {
        var context: [String: String] = [:]
        context["field"] = option
        return KilnError(.badRequest, message, context: context)
    }

    mutating func apply(_ option: Option, value: String) throws(KilnError) {
        switch option {
        case .deferral:
            throw Self.usage(
                "-a (start at a later time) is not supported: a job starts at once; give it a schedule in jobs.yaml instead",
                option: option.rawValue)
        case .binary, .now:
            _ = try Self.yesOrNo(value, option: option)  // how qsub took the program, when it queued: nothing to change here
        case .currentDirectory: workingDirectory = .current
        case .workingDirectory: workingDirectory = .path(try Self.path(value, option: option))
        case .errorPath: error = try Self.path(value, option: option)
        case .outputPath: output = try Self.path(value, option: option)
        case .input: input = try Self.path(value, option: option)
        case .join: joinsErrors = try Self.yesOrNo(value, option: option)
        case .sync: waits = try Self.yesOrNo(value, option: option)
        case .hard, .soft: break  // how strictly the grid matched the resources asked for
        case .resources: try applyResources(value)
        case .name: name = try GridJobName.validateGridName(value)
        case .priority:
            guard let priority = Int(value), (-1023...1024).contains(priority) else {
                throw Self.usage("-p is a priority from -1023 to 1024, not \(value.debugDescriptionPrefix)", option: option.rawValue)
            }
        case .queue:
            // One queue here: `task` and `continuous` were the grid's; -continuous says which.
            guard !value.isEmpty else { throw Self.usage("-q names a queue", option: option.rawValue) }
        case .variables: variables += try Self.variables(value)
        case .memory: memory = try GridMemory.parse(value, option: option.rawValue)
        case .once: once = true
        case .standardError: errorsToStandardError = true
        case .continuous:
            continuous = true
            once = true
        case .quiet: quiet = true
        case .umask:
            let scalars = Array(value.unicodeScalars)
            guard (1...4).contains(scalars.count), scalars.allSatisfy({ $0 >= "0" && $0 <= "7" }) else {
                throw Self.usage("umask must be an octal value: \(value.debugDescriptionPrefix)", option: option.rawValue)
            }
        }
    }

    /// qsub's `y|yes|n|no`.
    static func yesOrNo(_ value: String, option: Option) throws(KilnError) -> Bool {
        switch value.lowercased() {
        case "y", "yes": return true
        case "n", "no": return false
        default: throw usage("\(option.rawValue) takes y or n, not \(value.debugDescriptionPrefix)", option: option.rawValue)
        }
    }

    static func path(_ value: String, option: Option) throws(KilnError) -> String {
        guard !value.isEmpty, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw usage("\(option.rawValue) takes a path, not \(value.debugDescription.debugDescriptionPrefix)", option: option.rawValue)
        }
        return value
    }

    /// `-v A=1,B=two,C`: names as the shell takes them; a bare name's value comes from the caller.
    static func variables(_ value: String) throws(KilnError) -> [Variable] {
        var result: [Variable] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard isVariableName(name) else {
                throw usage("-v takes NAME=VALUE (names of letters, digits and '_'), not \(String(item).debugDescriptionPrefix)", option: "-v")
            }
            result.append(Variable(name: name, value: parts.count == 2 ? String(parts[1]) : nil))
        }
        return result
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !(first >= "0" && first <= "9") else { return false }
        return name.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    }
}

import KilnCore

extension CrontabConversion {
    /// Reads a crontab command that calls jsub: `[cd DIR &&|;] jsub OPTIONS PROGRAM ARGS [>/dev/null] [2>&1]`.
    /// Anything else (another program, a second command, a pipe, input after `%`) is an error
    /// saying what.
    static func read(_ command: String) throws(KilnError) -> Call {
        let text = try withoutPercentEscapes(command)
        let tokens: [ShellWords.Token]
        do {
            tokens = try ShellWords.tokens(text)
        } catch {
            throw KilnError(.badRequest, "cannot read the command: \(error.message)")
        }
        var index = 0
        var cronDirectory = "~"
        if tokens.count >= 3, tokens[0].isWord, tokens[0].text == "cd", tokens[1].isWord, !tokens[2].isWord,
            tokens[2].text == "&&" || tokens[2].text == ";"
        {
            let folder = homeRelative(tokens[1].text)
            guard !folder.contains("$"), !folder.contains("`") else {
                throw KilnError(.badRequest, "cd \(tokens[1].text.debugDescriptionPrefix): a folder named through the shell is not followed")
            }
            cronDirectory = folder
            index = 3
        }
        guard index < tokens.count, tokens[index].isWord,
            let invocation = JsubOptions.Invocation(rawValue: String(tokens[index].text.split(separator: "/").last ?? ""))
        else {
            let first = tokens.dropFirst(index).first?.text ?? ""
            throw KilnError(.badRequest, "'\(first.debugDescriptionPrefix)' is not jsub or jstart: only their jobs are converted")
        }
        let words = Array(tokens[(index + 1)...].prefix { $0.isWord })
        try checkTrailingRedirections(Array(tokens[(index + 1 + words.count)...]))
        let options = try JsubOptions.parse(words.map { expandingHome($0.text) }, invokedAs: invocation)
        for token in words.prefix(options.programIndex) where token.expands {
            let value = expandingHome(token.text)
            if value.contains("$") || value.contains("`") {
                throw KilnError(.badRequest, "the option value \(token.text.debugDescriptionPrefix) is made by the shell, which cron ran: write it out")
            }
        }
        guard let last = words.last else { throw KilnError(.badRequest, "jsub without a program") }
        let commandText = String(text[words[options.programIndex].range.lowerBound..<last.range.upperBound])
        return Call(invocation: invocation, cronDirectory: cronDirectory, options: options, commandText: commandText)
    }

    /// cron's `%`: an unescaped one ends the command (the rest is its input), `\%` is a `%`.
    static func withoutPercentEscapes(_ command: String) throws(KilnError) -> String {
        var result = ""
        var escaped = false
        for character in command {
            if escaped {
                if character != "%" { result.append("\\") }
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "%" {
                throw KilnError(.badRequest, "'%' gives the command standard input (cron's rule), which jobs do not have: write \\% for a %")
            } else {
                result.append(character)
            }
        }
        if escaped { result.append("\\") }
        return result
    }

    /// What may follow jsub's words: only redirections of jsub's own output to nowhere
    /// (`>/dev/null`, `2>&1`), which silenced it; anything else made the line more than a jsub call.
    static func checkTrailingRedirections(_ tokens: [ShellWords.Token]) throws(KilnError) {
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            let target = index + 1 < tokens.count && tokens[index + 1].isWord ? tokens[index + 1].text : nil
            let isOutput = !token.isWord && token.text.contains(">") && !token.text.contains("<")
            let silences: Bool =
                if token.text.hasSuffix("&") && !token.text.hasPrefix("&") {
                    target.map { !$0.isEmpty && $0.allSatisfy(\.isNumber) } ?? false
                } else {
                    target == "/dev/null"
                }
            guard isOutput, silences else {
                throw KilnError(
                    .badRequest,
                    "the line does more than call jsub ('\(token.text.debugDescriptionPrefix)' after its command): convert it by hand")
            }
            index += 2
        }
    }
}

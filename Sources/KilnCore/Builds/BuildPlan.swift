/// What a build of a repository does, decided from its files alone and the host's toolchain: the
/// language, the commands of each step (run as the tool, in order) and how the image's processes
/// will run. A repository the host cannot build (a Python it has not, an Aptfile's missing
/// package) is refused here, at the `detect` step, with what is missing.
public struct BuildPlan: Sendable, Hashable {
    public var language: BuildLanguage
    /// The runtime chosen, for the log (`Python 3.11 (/usr/bin/python3.11)`).
    public var runtimeSummary: String
    public var commands: [Command]
    public var launch: ImageLaunch

    /// One program a step runs.
    public struct Command: Sendable, Hashable {
        public var step: BuildStep
        public var program: String
        public var arguments: [String]
        public var workingDirectory: String
        /// Over the build's environment (caches, the tool's `-e` variables).
        public var environment: [String: String]

        /// The command line as the log shows it.
        public var display: String { ([program.split(separator: "/").last.map(String.init) ?? program] + arguments).joined(separator: " ") }
    }

    /// Where a build puts things: the image's folder (its final place: virtualenvs hold absolute
    /// paths) and the tool's dependency caches, kept between builds.
    public struct Folders: Sendable, Hashable {
        public var image: String
        public var cache: String

        public init(image: String, cache: String) {
            self.image = image
            self.cache = cache
        }

        public var app: String { image + "/app" }
        public var venv: String { image + "/layers/python/venv" }
        public var goBin: String { image + "/layers/go/bin" }
    }

    public init(facts: SourceFacts, toolchain: BuildToolchain, folders: Folders, useLatestVersions: Bool) throws(KilnError) {
        func refused(_ why: String) -> KilnError { KilnError(.badRequest, why, context: ["step": BuildStep.detect.rawValue]) }
        if !facts.aptPackages.isEmpty {
            let missing = facts.aptPackages.filter { !toolchain.installedPackages.contains($0) }
            guard missing.isEmpty else {
                throw refused(
                    "the Aptfile asks for packages this host does not have: \(missing.joined(separator: ", ")); builds cannot install system packages here (an operator can `apt-get install` them for every tool)")
            }
        }
        let files = facts.files
        let procfile = facts.procfile?.processes ?? []
        let app = folders.app
        var commands: [Command] = []
        func command(_ step: BuildStep, _ program: String, _ arguments: [String], _ environment: [String: String] = [:]) -> Command {
            Command(step: step, program: program, arguments: arguments, workingDirectory: app, environment: environment)
        }
        if files.contains("requirements.txt") || files.contains("pyproject.toml") || files.contains("setup.py") {
            let (version, python) = try Self.python(asked: facts.pythonVersion, toolchain: toolchain)
            let pip = folders.venv + "/bin/pip"
            var cache = ["PIP_CACHE_DIR": folders.cache + "/pip", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"]
            var install = ["install", "--progress-bar", "off"]
            if useLatestVersions {
                cache["PIP_NO_CACHE_DIR"] = "1"
                install.append("--upgrade")
            }
            let target = files.contains("requirements.txt") ? ["-r", "requirements.txt"] : ["."]
            if toolchain.pythonsWithPip.contains(version) {
                commands.append(command(.dependencies, python, ["-m", "venv", "--without-pip", folders.venv]))
                commands.append(command(.dependencies, python, ["-m", "pip", "--python", folders.venv + "/bin/python"] + install + target, cache))
            } else {
                commands.append(command(.dependencies, python, ["-m", "venv", folders.venv]))
                commands.append(command(.dependencies, pip, install + target, cache))
            }
            self.language = .python
            self.runtimeSummary = "Python \(version) (\(python))"
            self.launch = ImageLaunch(
                language: .python, runtimeProgram: python, pathEntries: [folders.venv + "/bin"],
                environment: ["VIRTUAL_ENV": folders.venv, "PYTHONUNBUFFERED": "1"], processes: procfile, workingDirectory: app)
        } else if files.contains("package.json") {
            guard let node = toolchain.node, let npm = toolchain.npm else {
                throw refused("this host cannot build Node.js: it has no node and npm (Debian packages nodejs, npm)")
            }
            if let engine = facts.nodeEngine, let host = node.major, !Self.nodeEngine(engine, admits: host) {
                throw refused("package.json asks for Node.js '\(engine)' (engines.node) and this host has Node.js \(host)")
            }
            var cache = ["npm_config_cache": folders.cache + "/npm", "npm_config_update_notifier": "false", "npm_config_fund": "false"]
            if useLatestVersions { cache["npm_config_prefer_online"] = "true" }
            let install = files.contains("package-lock.json") ? ["ci"] : ["install"]
            commands.append(command(.dependencies, npm, install + ["--no-audit"], cache))
            if facts.packageScripts.contains("build") { commands.append(command(.compile, npm, ["run", "build"], cache)) }
            var processes = procfile
            if !processes.contains(where: { $0.type == "web" }), facts.packageScripts.contains("start") {
                processes.append(Procfile.Process(type: "web", command: "npm start"))
            }
            self.language = .node
            self.runtimeSummary = "Node.js \(node.major.map(String.init) ?? "?") (\(node.path))"
            self.launch = ImageLaunch(
                language: .node, runtimeProgram: node.path, pathEntries: [app + "/node_modules/.bin"],
                environment: ["NODE_ENV": "production"], processes: processes, workingDirectory: app)
        } else if files.contains("composer.json") {
            guard let php = toolchain.php else { throw refused("this host cannot build PHP: it has no php (Debian package php-cli)") }
            guard let composer = toolchain.composer else {
                throw refused("this host cannot install a PHP project's dependencies: it has no composer (Debian package composer)")
            }
            let cache = ["COMPOSER_CACHE_DIR": folders.cache + "/composer", "COMPOSER_NO_INTERACTION": "1"]
            commands.append(command(.dependencies, composer, ["install", "--no-dev", "--prefer-dist", "--no-progress"], cache))
            var processes = procfile
            if !processes.contains(where: { $0.type == "web" }) {
                let root = files.contains("public") ? "public" : "."
                processes.append(Procfile.Process(type: "web", command: "php -S 0.0.0.0:$PORT -t \(root)"))
            }
            self.language = .php
            self.runtimeSummary = "PHP (\(php))"
            self.launch = ImageLaunch(
                language: .php, runtimeProgram: php, pathEntries: [app + "/vendor/bin"], environment: [:], processes: processes,
                workingDirectory: app)
        } else if files.contains("go.mod") {
            guard let go = toolchain.go else { throw refused("this host cannot build Go: it has no go (Debian package golang-go)") }
            let environment = [
                "GOCACHE": folders.cache + "/go-build", "GOMODCACHE": folders.cache + "/go-mod", "GOPATH": folders.cache + "/go",
                "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0",
            ]
            commands.append(command(.compile, go, ["build", "-o", folders.goBin + "/", "./..."], environment))
            var processes = procfile
            let binary = facts.goModule.flatMap(Self.goBinaryName(module:))
            if !processes.contains(where: { $0.type == "web" }), let binary, BuiltImageName.problem(withName: binary.lowercased()) == nil {
                processes.append(Procfile.Process(type: "web", command: binary))
            }
            self.language = .go
            self.runtimeSummary = "Go (\(go))"
            self.launch = ImageLaunch(
                language: .go, runtimeProgram: nil, pathEntries: [folders.goBin], environment: [:], processes: processes,
                workingDirectory: app)
        } else if files.contains("index.html") || files.contains("public") || !procfile.isEmpty {
            self.language = .static
            self.runtimeSummary = "static files"
            self.launch = ImageLaunch(
                language: .static, runtimeProgram: nil, pathEntries: [], environment: [:], processes: procfile, workingDirectory: app)
        } else {
            throw refused(
                "no language found: a build needs requirements.txt or pyproject.toml (Python), package.json (Node.js), composer.json (PHP), go.mod (Go), index.html (a static site) or a Procfile")
        }
        self.commands = commands
    }

    /// The Python a repository asks for (`3.12`, `3.12.1`, `python-3.12.1`), or the host's newest.
    static func python(asked: String?, toolchain: BuildToolchain) throws(KilnError) -> (version: String, path: String) {
        guard let asked = asked?.trimmingWhitespace(), !asked.isEmpty else {
            guard let found = toolchain.defaultPython else {
                throw KilnError(.badRequest, "this host cannot build Python: it has no python3 (Debian package python3)", context: ["step": "detect"])
            }
            return found
        }
        let text = asked.hasPrefix("python-") ? String(asked.dropFirst("python-".count)) : asked
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let wanted = parts.count >= 2 ? "\(parts[0]).\(parts[1])" : text
        if let path = toolchain.pythons[wanted] { return (wanted, path) }
        let have = toolchain.pythons.keys.sorted().map { "Python \($0)" }.joined(separator: ", ")
        throw KilnError(
            .badRequest,
            "the repository asks for Python \(text) (.python-version) and this host has \(have.isEmpty ? "no Python" : have): ask for one of those",
            context: ["step": "detect", "python": text])
    }

    /// The words of one range alternative as comparators: an operator apart from its version
    /// (`>= 16`) goes with it, and a hyphen range `A - B` is `>=A <=B`, as npm reads them.
    static func comparators(_ alternative: String) -> [String] {
        let words = alternative.split(separator: " ").map(String.init)
        var comparators: [String] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            if word == "-", index + 1 < words.count, let low = comparators.popLast() {
                comparators += [">=" + low, "<=" + words[index + 1]]
                index += 2
            } else if [">=", "<=", ">", "<", "^", "~", "="].contains(word), index + 1 < words.count {
                comparators.append(word + words[index + 1])
                index += 2
            } else {
                comparators.append(word)
                index += 1
            }
        }
        return comparators
    }

    /// The name `go build` gives the module's main package: its path's last element that is not a
    /// major version (`example.org/bot/v2` → `bot`).
    static func goBinaryName(module: String) -> String? {
        let elements = module.split(separator: "/").map(String.init)
        guard let last = elements.last else { return nil }
        let digits = last.dropFirst()
        let isMajorVersion = last.hasPrefix("v") && !digits.isEmpty && digits.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
            && !digits.hasPrefix("0") && digits != "1"
        return isMajorVersion && elements.count > 1 ? elements[elements.count - 2] : last
    }

    /// Whether a host's Node.js major version meets `engines.node` (`18`, `18.x`, `^18.2`, `~18`,
    /// `>=16`, `>= 16`, `>16 <21`, `14 - 20`, `16 || 18`). A range it cannot read is let pass: npm
    /// itself will say.
    static func nodeEngine(_ range: String, admits major: Int) -> Bool {
        let alternatives = range.split(separator: "|").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !alternatives.isEmpty else { return true }
        return alternatives.contains { alternative in
            Self.comparators(alternative).allSatisfy { word in
                var text = Substring(word)
                var comparison = "="
                for prefix in [">=", "<=", ">", "<", "^", "~", "="] where text.hasPrefix(prefix) {
                    comparison = prefix
                    text = text.dropFirst(prefix.count)
                    break
                }
                if text.hasPrefix("v") { text = text.dropFirst() }
                guard let first = text.split(separator: ".").first, first.count <= 4, let number = Int(first) else { return true }
                let exactMinor = text.split(separator: ".").count > 1 && !text.hasSuffix(".x")
                switch comparison {
                case ">=": return major >= number
                case ">": return exactMinor ? major >= number : major > number
                case "<=": return major <= number
                // `<20.5` admits some 20.x; `<20.0.0` admits none.
                case "<": return major < number || (exactMinor && text.split(separator: ".").dropFirst().contains { $0 != "0" } && major == number)
                default: return major == number
                }
            }
        }
    }
}

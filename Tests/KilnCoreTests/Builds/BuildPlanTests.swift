import Foundation
import Testing

@testable import KilnCore

@Suite struct BuildPlanTests {
    let folders = BuildPlan.Folders(image: "/srv/images/bot/web/4", cache: "/srv/cache/bot")
    let host = BuildToolchain(
        pythons: ["3.9": "/usr/bin/python3.9", "3.11": "/usr/bin/python3.11", "3.10": "/usr/bin/python3.10"],
        node: .init(path: "/usr/bin/node", major: 18), npm: "/usr/bin/npm", php: "/usr/bin/php", composer: "/usr/bin/composer",
        go: "/usr/lib/go/bin/go", installedPackages: ["libxml2", "imagemagick"])

    func plan(_ facts: SourceFacts, toolchain: BuildToolchain? = nil, latest: Bool = false) throws(KilnError) -> BuildPlan {
        try BuildPlan(facts: facts, toolchain: toolchain ?? host, folders: folders, useLatestVersions: latest)
    }

    func refusal(_ facts: SourceFacts, toolchain: BuildToolchain? = nil) -> KilnError? {
        let error = #expect(throws: KilnError.self) { try self.plan(facts, toolchain: toolchain) }
        #expect(error?.code == .badRequest)
        #expect(error?.context["step"] == "detect")
        return error
    }

    // MARK: Folders

    @Test func foldersAreUnderTheImage() {
        #expect(folders.app == "/srv/images/bot/web/4/app")
        #expect(folders.venv == "/srv/images/bot/web/4/layers/python/venv")
        #expect(folders.goBin == "/srv/images/bot/web/4/layers/go/bin")
    }

    // MARK: Python

    @Test func pythonWithRequirementsMakesAVirtualenvAndInstallsThem() throws {
        let plan = try plan(SourceFacts(files: ["requirements.txt"]))
        #expect(plan.language == .python)
        // No version asked: the host's newest (3.11, not the lexically larger 3.9).
        #expect(plan.runtimeSummary == "Python 3.11 (/usr/bin/python3.11)")
        #expect(plan.commands.count == 2)
        let venv = plan.commands[0]
        #expect(venv.step == .dependencies)
        #expect(venv.program == "/usr/bin/python3.11")
        #expect(venv.arguments == ["-m", "venv", folders.venv])
        #expect(venv.workingDirectory == folders.app)
        let install = plan.commands[1]
        #expect(install.program == folders.venv + "/bin/pip")
        #expect(install.arguments == ["install", "--progress-bar", "off", "-r", "requirements.txt"])
        #expect(install.environment["PIP_CACHE_DIR"] == "/srv/cache/bot/pip")
        #expect(install.environment["PIP_NO_CACHE_DIR"] == nil)
        #expect(install.display == "pip install --progress-bar off -r requirements.txt")
        #expect(plan.launch.language == .python)
        #expect(plan.launch.runtimeProgram == "/usr/bin/python3.11")
        #expect(plan.launch.pathEntries == [folders.venv + "/bin"])
        #expect(plan.launch.environment["VIRTUAL_ENV"] == folders.venv)
        #expect(plan.launch.workingDirectory == folders.app)
        #expect(plan.launch.processes.isEmpty)
    }

    @Test func aHostWithPipFillsAVirtualenvMadeWithoutOne() throws {
        var toolchain = host
        toolchain.pythonsWithPip = ["3.11"]
        let made = try plan(SourceFacts(files: ["requirements.txt"]), toolchain: toolchain)
        #expect(made.commands.map(\.program) == ["/usr/bin/python3.11", "/usr/bin/python3.11"])
        #expect(made.commands[0].arguments == ["-m", "venv", "--without-pip", folders.venv])
        #expect(made.commands[1].arguments == ["-m", "pip", "--python", folders.venv + "/bin/python", "install", "--progress-bar", "off", "-r", "requirements.txt"])
        #expect(made.commands[1].environment["PIP_CACHE_DIR"] == "/srv/cache/bot/pip")
        // Another version asked, whose host has no pip: the virtualenv brings its own.
        let other = try plan(SourceFacts(files: ["requirements.txt"], pythonVersion: "3.10"), toolchain: toolchain)
        #expect(other.commands[0].arguments == ["-m", "venv", folders.venv])
        #expect(other.commands[1].program == folders.venv + "/bin/pip")
    }

    @Test(arguments: ["pyproject.toml", "setup.py"])
    func aPythonProjectWithoutRequirementsIsInstalledItself(_ file: String) throws {
        let plan = try plan(SourceFacts(files: [file]))
        #expect(plan.language == .python)
        #expect(plan.commands.last?.arguments == ["install", "--progress-bar", "off", "."])
    }

    @Test func requirementsWinOverPyproject() throws {
        let plan = try plan(SourceFacts(files: ["requirements.txt", "pyproject.toml"]))
        #expect(plan.commands.last?.arguments.suffix(2) == ["-r", "requirements.txt"])
    }

    @Test(arguments: ["3.10", "3.10.4", "python-3.10.4", " 3.10\n", "3.10.0rc1", "python-3.10"])
    func theAskedPythonVersionIsMatchedByMajorAndMinor(_ asked: String) throws {
        let plan = try plan(SourceFacts(files: ["requirements.txt", ".python-version"], pythonVersion: asked))
        #expect(plan.runtimeSummary == "Python 3.10 (/usr/bin/python3.10)")
        #expect(plan.commands.first?.program == "/usr/bin/python3.10")
        #expect(plan.launch.runtimeProgram == "/usr/bin/python3.10")
    }

    @Test func anEmptyVersionFileMeansTheDefault() throws {
        #expect(try plan(SourceFacts(files: ["requirements.txt"], pythonVersion: "  \n")).runtimeSummary.hasPrefix("Python 3.11 "))
    }

    @Test(arguments: ["3.12", "3.12.1", "python-3.12.1", "3", "2.7", "pypy3.10", "3.1"])
    func aPythonTheHostHasNotIsRefusedNamingTheOnesItHas(_ asked: String) {
        let error = refusal(SourceFacts(files: ["requirements.txt"], pythonVersion: asked))
        #expect(error?.message.contains("Python 3.9") == true)
        #expect(error?.message.contains("Python 3.10") == true)
        #expect(error?.message.contains("Python 3.11") == true)
        #expect(error?.context["python"] != nil)
    }

    @Test func theAskedVersionIsQuotedWithoutItsPrefix() {
        let error = refusal(SourceFacts(files: ["requirements.txt"], pythonVersion: "python-3.12.1"))
        #expect(error?.message.contains("asks for Python 3.12.1") == true)
        #expect(error?.context["python"] == "3.12.1")
    }

    @Test func aHostWithoutPythonSaysSo() {
        let none = BuildToolchain()
        let error = refusal(SourceFacts(files: ["requirements.txt"]), toolchain: none)
        #expect(error?.message.contains("no python3") == true)
        let asked = refusal(SourceFacts(files: ["requirements.txt"], pythonVersion: "3.11"), toolchain: none)
        #expect(asked?.message.contains("this host has no Python") == true)
    }

    @Test func theDefaultPythonIsTheNewestByVersion() {
        #expect(host.defaultPython?.version == "3.11")
        #expect(BuildToolchain(pythons: ["3.9": "a", "3.12": "b", "3.13": "c", "3.8": "d"]).defaultPython?.path == "c")
        #expect(BuildToolchain().defaultPython == nil)
    }

    @Test func useLatestVersionsSkipsPipsCacheAndUpgrades() throws {
        let install = try plan(SourceFacts(files: ["requirements.txt"]), latest: true).commands[1]
        #expect(install.environment["PIP_NO_CACHE_DIR"] == "1")
        #expect(install.arguments == ["install", "--progress-bar", "off", "--upgrade", "-r", "requirements.txt"])
    }

    @Test func aPythonProcfileIsTheImagesProcesses() throws {
        let procfile = try Procfile(parsing: "web: gunicorn app:app\nworker: python w.py")
        let plan = try plan(SourceFacts(files: ["requirements.txt", "Procfile"], procfile: procfile))
        #expect(plan.launch.processes == procfile.processes)
    }

    // MARK: Node.js

    @Test func nodeWithALockFileRunsCi() throws {
        let plan = try plan(SourceFacts(files: ["package.json", "package-lock.json"]))
        #expect(plan.language == .node)
        #expect(plan.runtimeSummary == "Node.js 18 (/usr/bin/node)")
        #expect(plan.commands.map(\.arguments) == [["ci", "--no-audit"]])
        #expect(plan.commands.first?.program == "/usr/bin/npm")
        #expect(plan.commands.first?.environment["npm_config_cache"] == "/srv/cache/bot/npm")
        #expect(plan.commands.first?.environment["npm_config_prefer_online"] == nil)
        #expect(plan.launch.pathEntries == [folders.app + "/node_modules/.bin"])
        #expect(plan.launch.environment["NODE_ENV"] == "production")
        #expect(plan.launch.runtimeProgram == "/usr/bin/node")
        // No start script, no Procfile: no web process.
        #expect(plan.launch.processes.isEmpty)
    }

    @Test func nodeWithoutALockFileRunsInstallAndABuildScriptCompiles() throws {
        let plan = try plan(SourceFacts(files: ["package.json"], packageScripts: ["build", "test"]), latest: true)
        #expect(plan.commands.map(\.arguments) == [["install", "--no-audit"], ["run", "build"]])
        #expect(plan.commands.map(\.step) == [.dependencies, .compile])
        #expect(plan.commands.allSatisfy { $0.environment["npm_config_prefer_online"] == "true" })
        #expect(plan.commands.last?.display == "npm run build")
    }

    @Test func theStartScriptIsTheDefaultWebProcessUnlessTheProcfileHasOne() throws {
        let started = try plan(SourceFacts(files: ["package.json"], packageScripts: ["start"]))
        #expect(started.launch.processes == [Procfile.Process(type: "web", command: "npm start")])
        let worker = try Procfile(parsing: "worker: node worker.js")
        let both = try plan(SourceFacts(files: ["package.json", "Procfile"], packageScripts: ["start"], procfile: worker))
        #expect(both.launch.processes.map(\.type) == ["worker", "web"])
        let web = try Procfile(parsing: "web: node server.js")
        let own = try plan(SourceFacts(files: ["package.json", "Procfile"], packageScripts: ["start"], procfile: web))
        #expect(own.launch.processes == web.processes)
    }

    @Test func aHostWithoutNodeOrNpmSaysSo() {
        var noNpm = host
        noNpm.npm = nil
        #expect(refusal(SourceFacts(files: ["package.json"]), toolchain: noNpm)?.message.contains("no node and npm") == true)
        var noNode = host
        noNode.node = nil
        #expect(refusal(SourceFacts(files: ["package.json"]), toolchain: noNode)?.message.contains("no node and npm") == true)
    }

    @Test func anEngineTheHostDoesNotMeetIsRefusedNamingBoth() {
        let error = refusal(SourceFacts(files: ["package.json"], nodeEngine: ">=20"))
        #expect(error?.message.contains("'>=20'") == true)
        #expect(error?.message.contains("Node.js 18") == true)
    }

    @Test func anEngineIsNotCheckedWhenTheHostsVersionIsUnknown() throws {
        var unknown = host
        unknown.node = .init(path: "/usr/bin/node", major: nil)
        let plan = try plan(SourceFacts(files: ["package.json"], nodeEngine: ">=99"), toolchain: unknown)
        #expect(plan.runtimeSummary == "Node.js ? (/usr/bin/node)")
    }

    @Test(arguments: [
        ("18", 18, true), ("18", 20, false), ("18.x", 18, true), ("18.x", 19, false), ("v18", 18, true), ("=18", 18, true),
        ("^18.2", 18, true), ("^18.2", 19, false), ("~18", 18, true), ("~18.1.0", 17, false),
        (">=16", 18, true), (">=16", 15, false), (">=16.0.0", 16, true), (">16", 16, false), (">16", 17, true), (">16.2", 16, true),
        (">16.x", 16, false), ("<21", 20, true), ("<21", 21, false), ("<20.5", 20, true), ("<20.0.1", 20, true), ("<20.0.0", 20, false), ("<20.0", 20, false), (">=18.0.0 <19.0.0", 19, false),
        (">=18.0.0 <19.0.0", 18, true), ("<=20", 20, true), ("<=20", 21, false),
        (">16 <21", 18, true), (">16 <21", 21, false), (">=14 <16", 18, false),
        ("16 || 18", 18, true), ("16 || 18", 17, false), ("14||>=18", 20, true), ("16 | 18", 18, true),
        ("*", 18, true), ("x", 18, true), ("", 18, true), ("lts/*", 18, true), ("latest", 3, true),
        ("99999999999999999999", 18, true), (">=-1", 18, true),
        (">= 16", 18, true), (">= 16", 15, false), ("> 16 < 21", 18, true), ("> 16 < 21", 22, false), ("<= 20", 20, true), ("^ 18", 18, true),
        ("14 - 20", 18, true), ("14 - 20", 14, true), ("14 - 20", 20, true), ("14 - 20", 21, false), ("14 - 20", 12, false),
        ("16 - 18 || 20", 20, true), ("16 - 18 || 20", 19, false),
    ] as [(String, Int, Bool)])
    func nodeEngineRangesAreReadByMajorVersion(_ range: String, _ major: Int, _ admitted: Bool) {
        #expect(BuildPlan.nodeEngine(range, admits: major) == admitted, "'\(range)' for Node.js \(major)")
    }

    // MARK: PHP

    @Test func phpInstallsWithComposerAndServesItsPublicFolder() throws {
        let plan = try plan(SourceFacts(files: ["composer.json", "composer.lock", "public"]))
        #expect(plan.language == .php)
        #expect(plan.runtimeSummary == "PHP (/usr/bin/php)")
        #expect(plan.commands.map(\.program) == ["/usr/bin/composer"])
        #expect(plan.commands.first?.arguments == ["install", "--no-dev", "--prefer-dist", "--no-progress"])
        #expect(plan.commands.first?.environment["COMPOSER_CACHE_DIR"] == "/srv/cache/bot/composer")
        #expect(plan.launch.processes == [Procfile.Process(type: "web", command: "php -S 0.0.0.0:$PORT -t public")])
        #expect(plan.launch.pathEntries == [folders.app + "/vendor/bin"])
    }

    @Test func phpWithoutAPublicFolderServesTheCheckoutAndAProcfileWebWins() throws {
        #expect(try plan(SourceFacts(files: ["composer.json"])).launch.processes.first?.command == "php -S 0.0.0.0:$PORT -t .")
        let web = try Procfile(parsing: "web: php -S 0.0.0.0:$PORT router.php")
        #expect(try plan(SourceFacts(files: ["composer.json"], procfile: web)).launch.processes == web.processes)
    }

    @Test func aHostWithoutPhpOrComposerSaysSo() {
        var noPHP = host
        noPHP.php = nil
        #expect(refusal(SourceFacts(files: ["composer.json"]), toolchain: noPHP)?.message.contains("no php") == true)
        var noComposer = host
        noComposer.composer = nil
        #expect(refusal(SourceFacts(files: ["composer.json"]), toolchain: noComposer)?.message.contains("no composer") == true)
    }

    // MARK: Go

    @Test func goCompilesIntoTheImageAndRunsTheModulesBinary() throws {
        let plan = try plan(SourceFacts(files: ["go.mod"], goModule: "example.org/tools/bot"))
        #expect(plan.language == .go)
        #expect(plan.commands.count == 1)
        let build = try #require(plan.commands.first)
        #expect(build.step == .compile)
        #expect(build.program == "/usr/lib/go/bin/go")
        #expect(build.arguments == ["build", "-o", folders.goBin + "/", "./..."])
        #expect(build.environment["GOTOOLCHAIN"] == "local")
        #expect(build.environment["GOMODCACHE"] == "/srv/cache/bot/go-mod")
        #expect(plan.launch.runtimeProgram == nil)
        #expect(plan.launch.pathEntries == [folders.goBin])
        #expect(plan.launch.processes == [Procfile.Process(type: "web", command: "bot")])
    }

    @Test func aModulesMajorVersionIsNotItsBinarysName() throws {
        // `go build` names a binary after the last path element that is not a major version.
        #expect(try plan(SourceFacts(files: ["go.mod"], goModule: "example.org/bot/v2")).launch.processes.first?.command == "bot")
        #expect(try plan(SourceFacts(files: ["go.mod"], goModule: "example.org/bot/v10")).launch.processes.first?.command == "bot")
        // v1 and v0 are not major-version suffixes; a module of one element is its own name.
        #expect(try plan(SourceFacts(files: ["go.mod"], goModule: "example.org/v1")).launch.processes.first?.command == "v1")
        #expect(try plan(SourceFacts(files: ["go.mod"], goModule: "v2")).launch.processes.first?.command == "v2")
    }

    @Test func aGoModuleWithoutAPlainNameGetsNoDefaultWeb() throws {
        #expect(try plan(SourceFacts(files: ["go.mod"])).launch.processes.isEmpty)
        #expect(try plan(SourceFacts(files: ["go.mod"], goModule: "example.org/a;rm -rf")).launch.processes.isEmpty)
        let web = try Procfile(parsing: "web: bot --serve")
        #expect(try plan(SourceFacts(files: ["go.mod"], goModule: "example.org/bot", procfile: web)).launch.processes == web.processes)
    }

    @Test func aHostWithoutGoSaysSo() {
        var noGo = host
        noGo.go = nil
        #expect(refusal(SourceFacts(files: ["go.mod"]), toolchain: noGo)?.message.contains("no go") == true)
    }

    // MARK: Static, nothing, Aptfile

    @Test(arguments: [["index.html"], ["public"], ["Procfile"]] as [Set<String>])
    func staticFilesNeedNoCommands(_ files: Set<String>) throws {
        let procfile = files.contains("Procfile") ? try Procfile(parsing: "web: ./serve.sh") : nil
        let plan = try plan(SourceFacts(files: files, procfile: procfile))
        #expect(plan.language == .static)
        #expect(plan.commands.isEmpty)
        #expect(plan.launch.runtimeProgram == nil)
        #expect(plan.launch.processes == (procfile?.processes ?? []))
    }

    @Test func languagesArePickedInOrder() throws {
        #expect(try plan(SourceFacts(files: ["requirements.txt", "package.json", "composer.json", "go.mod", "index.html"])).language == .python)
        #expect(try plan(SourceFacts(files: ["package.json", "composer.json", "go.mod", "index.html"])).language == .node)
        #expect(try plan(SourceFacts(files: ["composer.json", "go.mod", "index.html"])).language == .php)
        #expect(try plan(SourceFacts(files: ["go.mod", "index.html"])).language == .go)
    }

    @Test(arguments: [[], ["README.md"], ["Pipfile"], [".python-version"], ["Aptfile"], ["Procfile"]] as [Set<String>])
    func aRepositoryWithNoLanguageIsRefusedSayingWhatIsLookedFor(_ files: Set<String>) {
        // A Procfile that declares nothing is no language either.
        let error = refusal(SourceFacts(files: files, procfile: files.contains("Procfile") ? Procfile(processes: []) : nil))
        #expect(error?.message.contains("no language found") == true)
        #expect(error?.message.contains("requirements.txt") == true)
        #expect(error?.message.contains("go.mod") == true)
    }

    @Test func anAptfileOfInstalledPackagesPasses() throws {
        let plan = try plan(SourceFacts(files: ["requirements.txt", "Aptfile"], aptPackages: ["libxml2", "imagemagick"]))
        #expect(plan.language == .python)
    }

    @Test func anAptfileWithMissingPackagesIsRefusedNamingThem() {
        let error = refusal(SourceFacts(files: ["requirements.txt", "Aptfile"], aptPackages: ["libxml2", "ffmpeg", "tesseract-ocr"]))
        #expect(error?.message.contains("ffmpeg, tesseract-ocr") == true)
        #expect(error?.message.contains("libxml2") == false)
        // Before anything else: even a repository with no language hears of its packages first.
        #expect(refusal(SourceFacts(files: ["Aptfile"], aptPackages: ["ffmpeg"]))?.message.contains("ffmpeg") == true)
    }

    @Test func theLanguagesRuntimes() {
        #expect(BuildLanguage.python.runtime == .python)
        #expect(BuildLanguage.go.runtime == .golang)
        #expect(BuildLanguage.static.runtime == .debian)
    }

    @Test func decidingFilesIncludeEveryFileThePlanReads() {
        for file in ["requirements.txt", "pyproject.toml", "setup.py", "package.json", "package-lock.json", "composer.json", "go.mod", "index.html", "public", "Procfile", "Aptfile", ".python-version"] {
            #expect(SourceFacts.decidingFiles.contains(file), "\(file)")
        }
    }
}

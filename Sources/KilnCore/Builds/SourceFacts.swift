/// What a build reads of a repository's checkout to plan itself: which of the files that decide
/// the language are there, and the little they say (versions asked for, scripts, packages).
/// Gathered by the builder with the tool's rights; everything here is the tool's input.
public struct SourceFacts: Sendable, Hashable {
    /// Names present at the top of the checkout, of those `BuildPlan` looks at.
    public var files: Set<String>
    /// `.python-version` (or `runtime.txt`'s `python-3.x`) as written.
    public var pythonVersion: String?
    /// `engines.node` of package.json, as written.
    public var nodeEngine: String?
    /// The names of package.json's `scripts`.
    public var packageScripts: Set<String>
    /// The module path of go.mod (`module example.org/bot`).
    public var goModule: String?
    /// The Procfile, read.
    public var procfile: Procfile?
    /// The packages an Aptfile names.
    public var aptPackages: [String]

    public init(
        files: Set<String>, pythonVersion: String? = nil, nodeEngine: String? = nil, packageScripts: Set<String> = [],
        goModule: String? = nil, procfile: Procfile? = nil, aptPackages: [String] = []
    ) {
        self.files = files
        self.pythonVersion = pythonVersion
        self.nodeEngine = nodeEngine
        self.packageScripts = packageScripts
        self.goModule = goModule
        self.procfile = procfile
        self.aptPackages = aptPackages
    }

    /// The files whose presence decides the plan.
    public static let decidingFiles: Set<String> = [
        "requirements.txt", "pyproject.toml", "setup.py", "Pipfile", "package.json", "package-lock.json", "composer.json",
        "composer.lock", "go.mod", "index.html", "public", "Procfile", "Aptfile", ".python-version", "runtime.txt",
    ]
}

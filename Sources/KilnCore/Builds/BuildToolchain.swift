/// The language programs a host builds and runs images with, found by the builder: a build plans
/// against what is there, and says clearly what is not.
public struct BuildToolchain: Sendable, Hashable {
    /// Pythons by `major.minor` (`3.11` → `/usr/bin/python3.11`).
    public var pythons: [String: String]
    /// The versions among them whose host has pip (`python3.X -m pip`): their virtualenvs are made
    /// without a pip of their own and filled by the host's, which skips a second of every build.
    public var pythonsWithPip: Set<String> = []
    public var node: Program?
    public var npm: String?
    public var php: String?
    public var composer: String?
    public var go: String?
    /// Debian packages installed on the host (asked only for an Aptfile's names).
    public var installedPackages: Set<String>

    public struct Program: Sendable, Hashable {
        public var path: String
        /// The major version it says (`v18.19.0` → 18).
        public var major: Int?

        public init(path: String, major: Int?) {
            self.path = path
            self.major = major
        }
    }

    public init(
        pythons: [String: String] = [:], node: Program? = nil, npm: String? = nil, php: String? = nil, composer: String? = nil,
        go: String? = nil, installedPackages: Set<String> = []
    ) {
        self.pythons = pythons
        self.node = node
        self.npm = npm
        self.php = php
        self.composer = composer
        self.go = go
        self.installedPackages = installedPackages
    }

    /// The newest Python, the default when a repository asks for none.
    public var defaultPython: (version: String, path: String)? {
        pythons.max { Self.versionOrder($0.key).lexicographicallyPrecedes(Self.versionOrder($1.key)) }.map { ($0.key, $0.value) }
    }

    static func versionOrder(_ version: String) -> [Int] { version.split(separator: ".").map { Int($0) ?? 0 } }
}

/// The steps of a build, in order: the failing one is named in `build show` and `build logs`.
public enum BuildStep: String, Sendable, Hashable, Codable, CaseIterable {
    /// The repository cloned (as the tool) at the asked ref.
    case clone
    /// The language found (requirements.txt, package.json …) and its runtime chosen.
    case detect
    /// Dependencies installed: pip into a virtualenv, npm, composer.
    case dependencies
    /// Code compiled (`go build`, a package.json `build` script).
    case compile
    /// The image sealed: made the platform's, read-only, its digest computed, tagged.
    case export

    /// Its place in a build: steps only go forward.
    public var order: Int {
        switch self {
        case .clone: 0
        case .detect: 1
        case .dependencies: 2
        case .compile: 3
        case .export: 4
        }
    }

    /// What the step does, for logs and messages.
    public var summary: String {
        switch self {
        case .clone: "cloning the repository"
        case .detect: "detecting the language"
        case .dependencies: "installing dependencies"
        case .compile: "compiling"
        case .export: "exporting the image"
        }
    }
}

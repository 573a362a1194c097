/// What a repository is written in, as the build finds it (one language an image, as
/// Toolforge's build service builds them).
public enum BuildLanguage: String, Sendable, Hashable, Codable, CaseIterable {
    case python, node, php, go, `static`

    /// The runtime its processes run on (static sites: the shell, served by the platform).
    public var runtime: LanguageRuntime {
        switch self {
        case .python: .python
        case .node: .node
        case .php: .php
        case .go: .golang
        case .static: .debian
        }
    }
}

/// A route's pattern, compiled once when the route table changes, never per request.
///
/// Patterns are PCRE regular expressions searched in the path (as the seed's `ngx.re.match` did),
/// run by PCRE2 with limits, so no pattern can take unbounded time on any path. Nearly every tool
/// has the single route `.*`, and most others anchor a literal prefix, so those two shapes are
/// recognised and matched without the regex engine.
public struct RoutePattern: Sendable {
    enum Matcher: Sendable {
        case everything
        case literalPrefix(String)
        case compiled(CompiledPattern)
    }

    public let source: String
    let matcher: Matcher

    /// Refuses a pattern longer than `RouteLimits.patternBytes` before compiling it, and one
    /// that PCRE2 does not compile.
    public init(_ source: String) throws(KilnError) {
        let length = source.utf8.count
        guard length <= RouteLimits.patternBytes else {
            throw KilnError(
                .invalidRoute,
                "'pattern' is \(length) bytes long; a route pattern may have at most \(RouteLimits.patternBytes) bytes",
                context: ["field": "pattern", "limit": "\(RouteLimits.patternBytes) bytes"])
        }
        self.source = source
        if Self.matchesEverything(source) {
            matcher = .everything
        } else if let literal = Self.anchoredLiteral(source) {
            matcher = .literalPrefix(literal)
        } else {
            matcher = .compiled(try CompiledPattern(source))
        }
    }

    /// Whether the pattern is found in `path`; `.abandoned` when the engine hit a limit first.
    public func match(_ path: Substring) -> RoutePatternMatch {
        switch matcher {
        case .everything:
            return .matched
        case .literalPrefix(let prefix):
            // Bytes, as PCRE2 compares them (not Unicode canonical equivalence).
            return path.utf8.starts(with: prefix.utf8) ? .matched : .unmatched
        case .compiled(let compiled):
            guard let scratch = PatternMatchScratch.current else { return .abandoned }
            return compiled.match(path, using: scratch)
        }
    }

    /// Whether the pattern is found in `path` (an abandoned match is no match).
    public func matches(_ path: Substring) -> Bool {
        match(path) == .matched
    }

    /// Whether the pattern matches every path (`.*` and its spellings).
    public static func isCatchAll(_ source: String) -> Bool { matchesEverything(source) }

    static func matchesEverything(_ source: String) -> Bool {
        ["", ".*", "^.*", ".*$", "^.*$", "(.*)", "^(.*)", "^(.*)$", "^/?.*"].contains(source)
    }

    /// `^/literal` (optionally followed by `.*`), with no other metacharacter.
    static func anchoredLiteral(_ source: String) -> String? {
        guard source.hasPrefix("^") else { return nil }
        var body = source.dropFirst()
        if body.hasSuffix(".*") { body = body.dropLast(2) }
        guard !body.isEmpty else { return nil }
        let meta: Set<Character> = ["\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "^", "$"]
        return body.contains(where: { meta.contains($0) }) ? nil : String(body)
    }
}

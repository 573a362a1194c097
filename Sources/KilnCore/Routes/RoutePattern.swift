/// A route's pattern, compiled once when the route table changes, never per request.
///
/// Patterns are regular expressions searched in the path (as the seed's `ngx.re.match` did). Nearly
/// every tool has the single route `.*`, and most others anchor a literal prefix, so those two shapes
/// are recognised and matched without the regex engine.
public struct RoutePattern: Sendable {
    enum Matcher: Sendable {
        case everything
        case literalPrefix(String)
        case regex(CompiledRegex)
    }

    public let source: String
    let matcher: Matcher

    public init(_ source: String) throws(KilnError) {
        self.source = source
        if Self.matchesEverything(source) {
            matcher = .everything
        } else if let literal = Self.anchoredLiteral(source) {
            matcher = .literalPrefix(literal)
        } else {
            do {
                matcher = .regex(try CompiledRegex(source))
            } catch {
                throw KilnError(
                    .invalidRoute,
                    "invalid route pattern '\(source)': \(error)",
                    context: ["pattern": source]
                )
            }
        }
    }

    public func matches(_ path: Substring) -> Bool {
        switch matcher {
        case .everything: true
        case .literalPrefix(let prefix): path.hasPrefix(prefix)
        case .regex(let regex): regex.matches(path)
        }
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

/// A regular expression held so it can be shared between event loops.
struct CompiledRegex: @unchecked Sendable {
    // Regex holds a class reference internally; matching is read-only and thread-safe.
    private let regex: Regex<AnyRegexOutput>

    init(_ source: String) throws {
        regex = try Regex(source)
    }

    func matches(_ path: Substring) -> Bool {
        (try? regex.firstMatch(in: path)) != nil
    }
}

import Testing

@testable import KilnCore

@Suite struct RoutePatternTests {
    func outcome(_ pattern: String, _ path: String) throws -> RoutePatternMatch {
        try RoutePattern(pattern).match(Substring(path))
    }

    /// The shapes tools registered with the seed (ngx.re), searched anywhere in the path.
    @Test(arguments: [
        (".*", "/anything/at/all", RoutePatternMatch.matched),
        ("^/api", "/api/v1", .matched),
        ("^/api", "/v1/api", .unmatched),
        ("^/static/.*", "/static/a.css", .matched),
        ("\\.php$", "/x/index.php", .matched),
        ("\\.php$", "/x/index.php/more", .unmatched),
        ("^/api/v[0-9]+/", "/api/v12/items", .matched),
        ("^/api/v[0-9]+/", "/api/vx/items", .unmatched),
        ("^/(|about|nothere/.*)$", "/", .matched),
        ("^/(|about|nothere/.*)$", "/about", .matched),
        ("^/(|about|nothere/.*)$", "/nothere/x/y", .matched),
        ("^/(|about|nothere/.*)$", "/aboutx", .unmatched),
        ("b/c", "/a/b/c/d", .matched),
        ("^/(foo|bar)/", "/bar/x", .matched),
        ("^/(foo|bar)/", "/baz/x", .unmatched),
        ("(?i)^/API/", "/api/x", .matched),
        ("^/a$", "/a", .matched),
        ("^/a$", "/a/b", .unmatched),
        ("^/[^/]+/edit$", "/page/edit", .matched),
        ("^/\\d{4}/\\d{2}/", "/2024/05/post", .matched),
    ])
    func seedPatternShapes(pattern: String, path: String, expected: RoutePatternMatch) throws {
        #expect(try outcome(pattern, path) == expected)
    }

    /// Paths are UTF-8 and matched code point by code point, in the fast path and in PCRE2 alike.
    @Test func utf8PathsMatchByCodePoint() throws {
        #expect(try outcome("^/café/", "/café/menu") == .matched)
        #expect(try outcome("^/café/", "/cafe/menu") == .unmatched)
        #expect(try outcome("^/caf./", "/café/menu") == .matched, "one '.' takes the two bytes of 'é'")
        #expect(try outcome("^/[é]+$", "/ééé") == .matched)
        #expect(try outcome("^/日本/.*\\.html$", "/日本/語.html") == .matched)
        #expect(try outcome("ü$", "/grüß/über/ü") == .matched)
        // The anchored-literal fast path compares bytes, as PCRE2 does: a decomposed é
        // (e + U+0301) is not the composed one.
        #expect(try outcome("^/café", "/cafe\u{301}") == .unmatched)
        #expect(try outcome("^/café", "/caf\u{E9}") == .matched)
    }

    @Test func theFastPathsAreRecognised() throws {
        for source in ["", ".*", "^.*", "^/?.*"] {
            guard case .everything = try RoutePattern(source).matcher else { Issue.record("\(source)"); continue }
        }
        guard case .literalPrefix("/api/") = try RoutePattern("^/api/.*").matcher else { Issue.record("^/api/.*"); return }
        guard case .compiled = try RoutePattern("^/api/v[0-9]+/").matcher else { Issue.record("regex"); return }
    }

    /// `^/(a+)+$` backtracks exponentially on `/aaa…ab`: the match is abandoned at the limit (no
    /// answer, no hang), on a short path and a long one, with the JIT and on the interpreter.
    @Test(arguments: [30, 3000])
    func aPathologicalPatternIsAbandonedAtTheLimit(pathBytes: Int) throws {
        let path = "/" + String(repeating: "a", count: pathBytes - 2) + "b"
        #expect(try outcome("^/(a+)+$", path) == .abandoned)
        #expect(try outcome("^/(a+)+$", "/aaaaaaaaaaaa") == .matched, "the same pattern still matches what it matches")
        let scratch = try #require(PatternMatchScratch.current)
        let interpreted = try CompiledPattern("^/(a+)+$", jit: false)
        #expect(!interpreted.isJITCompiled)
        #expect(interpreted.match(Substring(path), using: scratch) == .abandoned)
        #expect(interpreted.match("/aaaa", using: scratch) == .matched)
        #expect(interpreted.match("/aaab", using: scratch) == .unmatched)
    }

    /// A usual pattern that scans and backtracks over a path as long as the proxy reads (32 KiB
    /// heads) stays within the limits, with the JIT and on the interpreter.
    @Test(arguments: [
        ("\\.php$", RoutePatternMatch.matched), (".*/index\\.php$", .matched), ("^/(segment/)+index\\.php$", .matched),
        ("^/(?:[a-z]+/)*index\\.php$", .matched), ("\\.html$", .unmatched), ("^/(segment/)+x", .unmatched),
        ("^/(.*)/(.*)/index\\.(php|html)$", .matched),
    ])
    func ordinaryPatternsOnLongPathsStayWithinTheLimits(pattern: String, expected: RoutePatternMatch) throws {
        let long = Substring("/" + String(repeating: "segment/", count: 3_000) + "index.php")
        let scratch = try #require(PatternMatchScratch.current)
        #expect(try CompiledPattern(pattern).match(long, using: scratch) == expected)
        #expect(try CompiledPattern(pattern, jit: false).match(long, using: scratch) == expected)
    }

    /// One long segment, which backtracking patterns walk back over a byte at a time.
    @Test(arguments: [
        (".*\\.php$", RoutePatternMatch.matched), ("^/[a-z]+\\.php$", .matched), ("^/(.*)\\.php$", .matched),
        ("^/.*a\\.php$", .matched), ("^/.*b\\.php$", .unmatched), ("^/a*b", .unmatched),
    ])
    func ordinaryPatternsOnALongSegmentStayWithinTheLimits(pattern: String, expected: RoutePatternMatch) throws {
        let long = Substring("/" + String(repeating: "a", count: 30_000) + ".php")
        let scratch = try #require(PatternMatchScratch.current)
        #expect(try CompiledPattern(pattern).match(long, using: scratch) == expected)
        #expect(try CompiledPattern(pattern, jit: false).match(long, using: scratch) == expected)
    }

    @Test func thisPlatformHasTheJIT() throws {
        // Debian's PCRE2 on x86-64 and arm64 has one; elsewhere the interpreter does the work.
        let compiled = try CompiledPattern("^/api/v[0-9]+/")
        #expect(compiled.isJITCompiled)
    }

    @Test func aPatternOfTheMostBytesIsTakenOneMoreIsRefused() throws {
        let longest = "^/" + String(repeating: "x", count: RouteLimits.patternBytes - 3) + "$"
        #expect(longest.utf8.count == 512)
        #expect(try RoutePattern(longest).matches(Substring("/" + String(repeating: "x", count: 509))))
        let error = #expect(throws: KilnError.self) { try RoutePattern(longest + "y") }
        #expect(error?.code == .invalidRoute)
        #expect(error?.message.contains("'pattern'") == true)
        #expect(error?.message.contains("at most 512 bytes") == true)
        #expect(error?.context["field"] == "pattern")
        // Bytes, not characters: 256 two-byte characters and a '^' are 513 bytes.
        #expect(throws: KilnError.self) { try RoutePattern("^" + String(repeating: "é", count: 256)) }
    }

    @Test func anInvalidPatternIsRefusedNamingItAndWhere() throws {
        let error = #expect(throws: KilnError.self) { try RoutePattern("^/(a") }
        #expect(error?.code == .invalidRoute)
        #expect(error?.message.contains("'^/(a'") == true)
        #expect(error?.message.contains("missing closing parenthesis") == true, "\(String(describing: error))")
        #expect(error?.context["pattern"] == "^/(a")
        // \C could split a UTF-8 code point; it is refused rather than matched.
        #expect(throws: KilnError.self) { try RoutePattern("^/\\C") }
    }

    /// One compiled pattern, matched on many threads at once: each uses its own match data.
    @Test func threadsShareACompiledPatternNotItsMatchData() async throws {
        let pattern = try RoutePattern("^/api/v([0-9]+)/items/([a-z]+)$")
        let results = await withTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for index in 0..<64 {
                group.addTask {
                    var correct = true
                    for round in 0..<500 {
                        let matching = round.isMultiple(of: 2)
                        let path = matching ? "/api/v\(index)/items/abc" : "/api/v\(index)/items/ABC"
                        correct = correct && pattern.matches(Substring(path)) == matching
                    }
                    return correct
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0 })
    }
}

import Testing

@testable import KilnProxy

@Suite struct HostSyntaxTests {
    @Test(arguments: [
        "", "a", "tool.example.org", "TOOL.Example.ORG", "tool.localhost:8443", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:443",
        "[v1.fe80::a+en1]", "x:", "a-b_c~d", "%41.example", "a!$&'()*+,;=b", "tool.localhost.",
    ])
    func validHostsAreTaken(_ host: String) {
        #expect(HostSyntax.isValid(host))
    }

    @Test(arguments: [
        "a b", " a", "user@a", "a@b:80", "a:http", "a:80:80", "a/b", "a?b", "a#b", "[::1", "[::1]x", "[::1]:x", "::1", "a\u{0}b",
        "a\tb", "a\"b", "a\\b", "é.example", "[a b]", "a:-1", "a:+1",
    ])
    func invalidHostsAreRefused(_ host: String) {
        #expect(!HostSyntax.isValid(host))
    }
}

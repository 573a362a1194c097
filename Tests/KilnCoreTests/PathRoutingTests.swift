import KilnCore
import Testing

@Suite struct PathRoutingTests {
    @Test(arguments: ["example.org", "tools.wmcloud.org", "kiln.test", "Example.ORG."])
    func aDNSNameRedirects(domain: String) {
        #expect(PathRouting.default(forDomain: domain) == .redirect)
    }

    @Test(arguments: ["localhost", "LOCALHOST", "kiln.localhost", "localhost.", "127.0.0.1", "10.1.2.3", "::1", "[::1]"])
    func localNamesAndAddressesServe(domain: String) {
        #expect(PathRouting.default(forDomain: domain) == .serve)
    }
}

import KilnCore
import Testing

@Suite struct LoopbackAddressTests {
    @Test(arguments: [
        ("127.0.0.1", LoopbackAddress.ipv4(127, 0, 0, 1)), ("127.1.2.3", .ipv4(127, 1, 2, 3)), ("localhost", .ipv4(127, 0, 0, 1)),
        ("LocalHost", .ipv4(127, 0, 0, 1)), ("::1", .ipv6), ("[::1]", .ipv6),
    ])
    func loopbackSpellings(host: String, address: LoopbackAddress) {
        #expect(LoopbackAddress(host: host) == address)
    }

    @Test(arguments: [
        "10.0.0.1", "169.254.169.254", "0.0.0.0", "128.0.0.1", "127.0.0.01", "127.0.0", "127.0.0.1.5", "127.0.0.256", "127.0.0.-1",
        "::", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1", "example.org", "127.0.0.1.nip.io", "", " 127.0.0.1",
    ])
    func everythingElseIsNotLoopback(host: String) {
        #expect(LoopbackAddress(host: host) == nil)
    }

    @Test func anEndpointNeedsAPort() {
        #expect(LoopbackEndpoint(HostPort(host: "127.0.0.1", port: 0)) == nil)
        #expect(LoopbackEndpoint(HostPort(host: "127.0.0.1", port: 8080))?.description == "127.0.0.1:8080")
        #expect(LoopbackEndpoint(HostPort(host: "::1", port: 8080))?.description == "[::1]:8080")
    }
}

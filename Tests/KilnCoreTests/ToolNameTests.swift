import KilnCore
import Testing

@Suite struct ToolNameTests {
    @Test(arguments: ["a", "tool", "my-tool-2", String(repeating: "a", count: 32)])
    func validNames(_ name: String) throws {
        #expect(try ToolName(name).rawValue == name)
    }

    @Test(arguments: [
        ("", "empty"), ("Tool", "lower-case letter"), ("1tool", "lower-case letter"), ("-tool", "lower-case letter"),
        ("tool_x", "only lower-case"), ("tool.x", "only lower-case"), ("tool-", "must not end"),
        (String(repeating: "a", count: 33), "longer than 32"), ("tøøl", "only lower-case"),
    ])
    func invalidNamesSayWhichRule(_ name: String, _ rule: String) {
        #expect(throws: KilnError.self) { try ToolName(name) }
        #expect(ToolName.problem(with: name)?.contains(rule) == true, "\(name): \(ToolName.problem(with: name) ?? "accepted")")
        do {
            _ = try ToolName(name)
        } catch {
            #expect(error.code == .invalidName)
            #expect(error.context["name"] == name)
            #expect(error.httpStatus == 400)
        }
    }

    @Test func unixNamesFitUseraddAndStayDistinct() throws {
        #expect(UnixAccountName.forTool(try ToolName("hello")) == "tools.hello")
        let long1 = try ToolName(String(repeating: "a", count: 31) + "b")
        let long2 = try ToolName(String(repeating: "a", count: 31) + "c")
        let name1 = UnixAccountName.forTool(long1)
        let name2 = UnixAccountName.forTool(long2)
        #expect(name1.utf8.count <= 32 && name2.utf8.count <= 32)
        #expect(name1 != name2)
        #expect(name1.hasPrefix("tools.aaaa"))
        #expect(UnixAccountName.forTool(long1) == name1, "the mapping is stable")
        let exactlyFits = try ToolName(String(repeating: "x", count: 26))
        #expect(UnixAccountName.forTool(exactlyFits) == "tools." + exactlyFits.rawValue)
    }

    @Test func maintainerNames() throws {
        try MaintainerName.validate("alice.b@example")
        #expect(throws: KilnError.self) { try MaintainerName.validate("a b") }
        #expect(throws: KilnError.self) { try MaintainerName.validate("") }
    }
}

@Suite struct HostPortTests {
    @Test func parsesHostsAndPorts() throws {
        #expect(try HostPort(parsing: "127.0.0.1:8080") == HostPort(host: "127.0.0.1", port: 8080))
        #expect(try HostPort(parsing: "[::1]:8443") == HostPort(host: "::1", port: 8443))
        #expect(try HostPort(parsing: "localhost:0").port == 0)
        #expect(HostPort(host: "::1", port: 1).description == "[::1]:1")
    }

    @Test(arguments: ["127.0.0.1", ":80", "host:", "host:65536", "host:x", "::1:80", "[::1:80"])
    func refusesBadAddresses(_ text: String) {
        #expect(throws: KilnError.self) { try HostPort(parsing: text) }
    }
}

@Suite struct PrincipalTests {
    @Test func toolsActOnThemselvesAlone() throws {
        let own = try ToolName("own")
        let other = try ToolName("other")
        try Principal.admin.authorize(actingOn: other)
        try Principal.tool(own).authorize(actingOn: own)
        #expect(throws: KilnError.self) { try Principal.tool(own).authorize(actingOn: other) }
        do {
            try Principal.tool(own).authorize(actingOn: other)
        } catch {
            #expect(error.code == .forbidden)
            #expect(error.httpStatus == 403)
        }
        try Principal.admin.authorizeAdmin(for: "x")
        #expect(throws: KilnError.self) { try Principal.tool(own).authorizeAdmin(for: "x") }
    }
}

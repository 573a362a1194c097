import KilnCore
import Testing

struct EnvvarNameTests {
    @Test(arguments: ["A", "_", "API_KEY", "X1", "PATH", "LANG", String(repeating: "A", count: 255)])
    func namesAShellTakesAreAccepted(_ name: String) throws {
        #expect(try EnvvarName(name).rawValue == name)
    }

    @Test(arguments: [
        "", "a", "api_key", "1A", "A-B", "A B", "A.B", "É", "TOOL_NAME", "TOOL_", "KILN_REPLICA", "HOME", "USER", "LOGNAME", "PORT",
        "JOB_NAME", String(repeating: "A", count: 256),
    ])
    func otherNamesAreRefusedWithTheRule(_ name: String) {
        #expect(EnvvarName.problem(with: name) != nil)
        #expect(throws: KilnError.self) { try EnvvarName(name) }
    }

    @Test func valuesAreBoundedAndHoldNoNUL() {
        #expect(EnvvarLimits.problem(withValue: String(repeating: "v", count: EnvvarLimits.maximumValueBytes)) == nil)
        #expect(EnvvarLimits.problem(withValue: String(repeating: "v", count: EnvvarLimits.maximumValueBytes + 1)) != nil)
        #expect(EnvvarLimits.problem(withValue: "a\u{0}b") != nil)
        #expect(EnvvarLimits.problem(withValue: "") == nil)
    }

    @Test func theToolsValuesGoOverTheDefaultsAndThePlatformsOverBoth() {
        let environment = ToolEnvironments.layered(
            defaults: ["PATH": "/bin", "LANG": "C.UTF-8"], tool: ["PATH": "/opt/bin", "HOME": "/evil", "API": "k"],
            platform: ["HOME": "/home/t", "PORT": "1"])
        #expect(environment == ["PATH": "/opt/bin", "LANG": "C.UTF-8", "API": "k", "HOME": "/home/t", "PORT": "1"])
    }
}

import KilnCore
import KilnRunner
import Testing

/// What a grid replica's runner passes on to the server it starts.
@Suite struct WebserviceRunnerTests {
    @Test func onlyTheToolsEnvvarsAreTheTools() {
        let inherited = [
            "KILN_TOOL_ENVVARS": "API_KEY,MODE", "API_KEY": "k", "MODE": "prod", "KILN_REPLICA_CREDENTIAL": "kiln_replica_x",
            "KILN_WEBSERVICE": "{}", "SGE_ROOT": "/var/lib/gridengine", "PATH": "/usr/bin",
        ]
        #expect(WebserviceRunner.toolEnvironment(in: inherited) == ["API_KEY": "k", "MODE": "prod"])
        #expect(WebserviceRunner.toolEnvironment(in: ["API_KEY": "k"]).isEmpty)
    }
}

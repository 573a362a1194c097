import Foundation
import KilnCore
import Testing

/// `health-check-http` and `health-check-script` as declarations: which check a job gets, and the
/// combinations refused (each naming its field).
@Suite struct JobHealthCheckTests {
    func web(port: Int? = 8080, script: String? = nil, path: String? = nil, continuous: Bool = true) -> JobSpec {
        JobSpec(
            name: "web", command: "./serve", image: "python3.11", continuous: continuous, port: port, healthCheckScript: script,
            healthCheckHTTP: path)
    }

    func refusal(_ spec: JobSpec) -> KilnError? {
        #expect(throws: KilnError.self) { try spec.validate() }
    }

    @Test func theCheckIsTheScriptThePathOrThePort() throws {
        #expect(web(path: "/healthz").healthCheck == .http(path: "/healthz"))
        #expect(web(script: "./check.sh").healthCheck == .script("./check.sh"))
        #expect(web(port: nil, script: "./check.sh").healthCheck == .script("./check.sh"))
        #expect(web().healthCheck == .port)
        #expect(web(port: nil).healthCheck == nil)
        #expect(JobHealthCheck.http(path: "/healthz").declared == "http: /healthz")
        #expect(JobHealthCheck.script("./check.sh").declared == "script: ./check.sh")
        #expect(JobHealthCheck.port.declared == nil)
        for spec in [web(path: "/healthz"), web(path: "healthz?full=1"), web(script: "./check.sh")] {
            #expect(throws: Never.self) { try spec.validate() }
        }
        // Kubernetes takes a path without its slash.
        #expect(JobHealthCheck.target(of: "healthz") == "/healthz")
        #expect(JobHealthCheck.target(of: "/healthz") == "/healthz")
    }

    @Test func anHTTPCheckNeedsAPortAndIsNotGivenWithAScript() {
        let noPort = refusal(web(port: nil, path: "/healthz"))
        #expect(noPort?.context["field"] == "health-check-http")
        #expect(noPort?.message.contains("needs a port") == true)
        let both = refusal(web(script: "./check.sh", path: "/healthz"))
        #expect(both?.context["field"] == "health-check-http")
        #expect(both?.message.contains("not both") == true)
        let oneOff = refusal(web(path: "/healthz", continuous: false))
        #expect(oneOff?.context["field"] == "port" || oneOff?.context["field"] == "health-check-http")
        #expect(refusal(web(port: nil, path: "/healthz", continuous: false))?.context["field"] == "health-check-http")
    }

    @Test(arguments: ["", "/a b", "/a\r\nHost: evil", "/\u{7F}", "/é", String(repeating: "a", count: 2049)])
    func aPathThatCannotGoInARequestLineIsRefused(path: String) {
        let error = refusal(web(path: path))
        #expect(error?.context["field"] == "health-check-http", "\(path)")
    }

    @Test func theAPIsSnakeCaseReadsBack() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let spec = web(path: "/healthz")
        let json = String(decoding: try encoder.encode(spec), as: UTF8.self)
        #expect(json.contains(#""health_check_http":"\/healthz""#), "\(json)")
        #expect(json.contains(#""port_protocol":"tcp""#), "\(json)")
        #expect(try decoder.decode(JobSpec.self, from: Data(json.utf8)) == spec)
        // Stored records (plain keys) too.
        #expect(try JSONDecoder().decode(JobSpec.self, from: try JSONEncoder().encode(spec)) == spec)
    }
}

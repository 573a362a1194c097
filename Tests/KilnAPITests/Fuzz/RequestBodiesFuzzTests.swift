import Foundation
import Hummingbird
import HummingbirdTesting
import KilnCore
import KilnFormats
import NIOCore
import PropertyBased
import Testing

@testable import KilnAPI

/// Generated API bodies with hostile numbers through the API's real decoder and the checks that
/// follow it (validation, merging, quotas): each is accepted with every number in range, or refused
/// with a KilnError, and a refusal over one hostile field names that field. A trap would end the run.
@Suite struct RequestBodiesFuzzTests {
    /// A job body with one numeric field (named) set to a hostile value, the others valid.
    static let jobBodies = Generator<(String, String), Shrink.None<(String, String)>> { rng in
        let field = ["retry", "timeout", "port", "replicas", "memory", "cpu"].randomElement(using: &rng) ?? "retry"
        let continuous = ["port", "replicas", "memory", "cpu"].contains(field)
        var fields: [(String, String)] = [("name", "\"fuzz\""), ("command", "\"./run.sh\""), ("image", "\"bookworm\"")]
        if continuous { fields.append(("continuous", "true")) }
        let value =
            switch field {
            case "memory": HostileJSON.quantity("bytes", &rng)
            case "cpu": HostileJSON.quantity("millicores", &rng)
            default: HostileJSON.value(&rng)
            }
        fields.append((field, value))
        return (field, HostileJSON.object(fields))
    }

    static let webserviceBodies = Generator<(String, String), Shrink.None<(String, String)>> { rng in
        let field = ["replicas", "mem", "cpu"].randomElement(using: &rng) ?? "mem"
        let value: String
        if field == "replicas" || Bool.random(using: &rng) {
            value = HostileJSON.value(&rng)
        } else {
            // As the CLI sends them: text, with a hostile number and maybe a suffix.
            value = "\"\(HostileJSON.number(&rng))\(["", "Mi", "Gi", "Ti", "m"].randomElement(using: &rng) ?? "")\""
        }
        return (field, HostileJSON.object([("type", "\"python3.11\""), (field, value)]))
    }

    static let junkBodies = Generator<[UInt8], Shrink.None<[UInt8]>> { rng in
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: HostileJSON.randomBytes(&rng)
        case 1: Array(HostileJSON.nested(&rng).utf8)
        default: Array(HostileJSON.object([("name", HostileJSON.value(&rng)), ("memory", HostileJSON.value(&rng))]).utf8)
        }
    }

    /// The refusal names `field`, or the body is no JSON at all (nested past the parser's depth
    /// limit): then there is no field to name.
    func named(_ error: KilnError, _ field: String, in body: String) -> Bool {
        if let named = error.context["field"] { return named == field || named.hasPrefix(field + ".") }
        return (try? JSONSerialization.jsonObject(with: Data(body.utf8))) == nil
    }

    @Test func jobBodiesAreInRangeOrRefusedNamingTheField() async {
        var executions = 0
        var accepted = 0
        await propertyCheck(count: 3000, input: Self.jobBodies) { field, body in
            executions += 1
            do throws(KilnError) {
                let spec = try KilnRequestDecoder.decode(JobSpec.self, from: ByteBuffer(string: body))
                try spec.validate()
                try JobQuota(memoryPerJob: .maximum, cpuPerJob: .maximum).check(Array(repeating: spec, count: 3))
                accepted += 1
                #expect(spec.memory.map { (1...MemorySize.maximum.bytes).contains($0.bytes) } ?? true, "\(body)")
                #expect(spec.cpu.map { (1...CPUQuantity.maximum.millicores).contains($0.millicores) } ?? true, "\(body)")
                #expect(spec.replicas.map { (1...JobSpec.maximumReplicas).contains($0) } ?? true, "\(body)")
                #expect(spec.port.map { JobSpec.validPorts.contains($0) } ?? true, "\(body)")
            } catch where error.code == .quotaExceeded {
                // Three of the largest job still fit no tool's totals: refused, not trapped.
            } catch {
                #expect(named(error, field, in: body), "\(body): \(error.message) \(error.context)")
            }
        }
        print("fuzz: job bodies: \(executions) executions, \(accepted) accepted")
        #expect(executions == 3000)
    }

    @Test func webserviceBodiesAreInRangeOrRefusedNamingTheField() async {
        var executions = 0
        var accepted = 0
        await propertyCheck(count: 3000, input: Self.webserviceBodies) { field, body in
            executions += 1
            do throws(KilnError) {
                let request = try KilnRequestDecoder.decode(StartWebserviceRequest.self, from: ByteBuffer(string: body))
                let spec = try ServiceTemplate().merged(with: try request.flags())
                try WebserviceQuota().check(spec, jobs: [], totals: JobQuota())
                accepted += 1
                #expect((1...WebserviceSpec.maximumReplicas).contains(spec.replicas), "\(body)")
                #expect(spec.memory <= WebserviceQuota().memoryPerReplica, "\(body)")
            } catch {
                #expect(named(error, field, in: body), "\(body): \(error.message) \(error.context)")
            }
        }
        print("fuzz: webservice start bodies: \(executions) executions, \(accepted) accepted")
        #expect(executions == 3000)
    }

    @Test func junkBodiesAreRefusedAsKilnErrors() async {
        var executions = 0
        await propertyCheck(count: 2000, input: Self.junkBodies) { bytes in
            executions += 1
            let buffer = ByteBuffer(bytes: bytes)
            // Typed throws: anything other than a KilnError would not compile; a trap would end the run.
            _ = try? KilnRequestDecoder.decode(JobSpec.self, from: buffer)
            _ = try? KilnRequestDecoder.decode(StartWebserviceRequest.self, from: buffer)
            _ = try? KilnRequestDecoder.decode(LoadJobsRequest.self, from: buffer)
            _ = try? KilnRequestDecoder.decode(RouteRequest.self, from: buffer).route(for: try ToolName("fuzz"))
        }
        print("fuzz: junk bodies: \(executions) executions (4 decoders each)")
        #expect(executions == 2000)
    }

    /// Route requests through the whole router (authentication, decoding, the store): every answer
    /// is a success or a 4xx, never a 5xx, and the API still answers afterwards.
    @Test func routeRequestsThroughTheRouterGetNoServerError() async throws {
        let fixture = try ControlPlaneRouterTests.Fixture()
        let routeBodies = Generator<String, Shrink.None<String>> { rng in
            let port = HostileJSON.number(&rng)
            return HostileJSON.object([
                ("pattern", ["\".*\"", "\"^/a\"", "null", "1e308"].randomElement(using: &rng) ?? "null"),
                ("backend", Bool.random(using: &rng) ? "\"127.0.0.1:\(port)\"" : HostileJSON.value(&rng)),
                ("replace", ["true", "false", "0", "-1e308", "null"].randomElement(using: &rng) ?? "null"),
            ])
        }
        let executions = try await fixture.application.test(.router) { client in
            var executions = 0
            let admin: HTTPFields = [.authorization: "Bearer \(fixture.adminToken)", .contentType: "application/json"]
            try await client.execute(uri: "/v1/tools", method: .post, headers: admin, body: ByteBuffer(string: #"{"name":"fuzzroutes"}"#)) { _ in }
            await propertyCheck(count: 300, input: routeBodies) { body in
                executions += 1
                try await client.execute(uri: "/v1/tools/fuzzroutes/routes", method: .post, headers: admin, body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status.code < 500, "\(body): \(String(buffer: response.body))")
                }
            }
            try await client.execute(uri: "/v1/tools", method: .get, headers: admin) { response in
                #expect(response.status == .ok)
            }
            return executions
        }
        print("fuzz: route requests through the router: \(executions) executions")
        #expect(executions == 300)
    }
}

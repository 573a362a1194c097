import Foundation
import KilnCore
import Testing

@Suite struct WebserviceSpecTests {
    @Test(arguments: [
        ("512Mi", Int64(512) << 20), ("1Gi", Int64(1) << 30), ("1.0Gi", Int64(1) << 30), ("2000Mi", Int64(2000) << 20),
        ("1.5Gi", Int64(3) << 29), ("500M", Int64(500_000_000)), ("1G", Int64(1_000_000_000)), ("1048576", Int64(1) << 20),
        (" 256Mi ", Int64(256) << 20),
    ])
    func memorySizes(text: String, bytes: Int64) throws {
        #expect(try MemorySize(parsing: text).bytes == bytes)
    }

    @Test(arguments: ["", "lots", "-1Gi", "0", "1Xi", "Mi", "0.0000001"])
    func badMemorySizes(text: String) {
        #expect(throws: KilnError.self) { try MemorySize(parsing: text) }
    }

    @Test func memoryPrintsInItsShortestExactForm() throws {
        #expect(try MemorySize(parsing: "1024Mi").description == "1Gi")
        #expect(try MemorySize(parsing: "512Mi").description == "512Mi")
        #expect(MemorySize(bytes: 1000).description == "1000")
    }

    @Test(arguments: [("1", 1000), ("0.5", 500), ("'1.0'", -1), ("1.0", 1000), ("500m", 500), ("0.1", 100), ("2", 2000)])
    func cpuAmounts(text: String, millicores: Int) throws {
        if millicores < 0 {
            #expect(throws: KilnError.self) { try CPUQuantity(parsing: text) }
        } else {
            #expect(try CPUQuantity(parsing: text).millicores == millicores)
        }
    }

    @Test func cpuRefusesNothingAndAbsurdAmounts() {
        for text in ["0", "-1", "abc", "5000"] {
            #expect(throws: KilnError.self, "\(text)") { try CPUQuantity(parsing: text) }
        }
        #expect(CPUQuantity(millicores: 500).description == "0.5")
        #expect(CPUQuantity(millicores: 250).description == "250m")
    }

    @Test func typesAndTheirAliases() throws {
        #expect(try WebserviceType(parsing: "python3.11") == .python311)
        #expect(try WebserviceType(parsing: "static") == .staticFiles)
        // Retired names keep their family and runtime, and say what replaces them.
        let python39 = try WebserviceType(parsing: "python3.9")
        #expect(python39.family == .python && python39.runtime == .python && python39.retired)
        #expect(python39.retirementWarning?.contains("use 'python3.13'") == true)
        let lighttpd = try WebserviceType(parsing: "lighttpd")
        #expect(lighttpd.family == .php && lighttpd.retired)
        #expect(try WebserviceType(parsing: "jdk17").runtime == .java)
        #expect(try WebserviceType(parsing: "golang111").retirementWarning?.contains("use 'golang1.24'") == true)
        #expect(try WebserviceType(parsing: "perl5.36").needsCommand == false)
        #expect(try WebserviceType(parsing: "ruby3.1").needsCommand)
        #expect(try WebserviceType(parsing: "python3.11").retirementWarning == nil)
        let error = #expect(throws: KilnError.self) { try WebserviceType(parsing: "cobol") }
        #expect(error?.message.contains("python3.11, python3.13, php8.2") == true)
        #expect(error?.code == .invalidWebservice)
        #expect(try WebserviceType(parsing: "buildservice").family == .buildservice)
    }

    @Test func typesTravelAsTheirNameAlone() throws {
        let encoded = try JSONEncoder().encode(try WebserviceType(parsing: "tcl8.6"))
        #expect(String(decoding: encoded, as: UTF8.self) == #""tcl8.6""#)
        #expect(try JSONDecoder().decode(WebserviceType.self, from: encoded).runtime == .tcl)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(WebserviceType.self, from: Data(#""cobol""#.utf8)) }
    }

    @Test func commandTypesNeedACommandOthersRefuseOne() throws {
        #expect(throws: KilnError.self) { try WebserviceSpec(type: WebserviceType(parsing: "jdk17")) }
        #expect(try WebserviceSpec(type: WebserviceType(parsing: "jdk17"), extraArguments: ["java", "-jar", "app.jar"]).command == nil)
        #expect(try WebserviceSpec(type: WebserviceType(parsing: "tcl8.6")).extraArguments.isEmpty)
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .python311, command: "gunicorn app") }
    }

    @Test func declarationsAreValidated() throws {
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .generic) }
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .generic, command: "  ") }
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .python311, command: "python3 app.py") }
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .staticFiles, replicas: 0) }
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .staticFiles, replicas: 17) }
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .staticFiles, healthCheckPath: "healthz") }
        #expect(throws: KilnError.self) { try WebserviceSpec(type: .staticFiles, memory: MemorySize(bytes: 1 << 20)) }
        let spec = try WebserviceSpec(type: .generic, command: "python3 -m http.server $PORT", replicas: 3)
        #expect(spec.memory == WebserviceSpec.defaultMemory && spec.cpu == WebserviceSpec.defaultCPU)
        #expect(spec.healthCheckPath == "/")
    }

    @Test func statusSaysWhatTheReplicasAreDoing() throws {
        let tool = try ToolName("demo")
        let record = WebserviceRecord(tool: tool, spec: try WebserviceSpec(type: .staticFiles, replicas: 2), declaredAt: 0)
        func status(_ phases: [ReplicaRecord.Phase]) -> WebserviceStatus {
            let replicas = phases.enumerated().map { ReplicaRecord(tool: tool, index: $0.offset, port: 1000 + $0.offset, phase: $0.element) }
            return WebserviceStatus(tool: tool, record: record, replicas: replicas, limitEnforcement: [:], errorLogTail: ["boom"])
        }
        #expect(status([.serving, .serving]).state == .running)
        #expect(status([.serving, .serving]).errorLogTail.isEmpty)
        #expect(status([.serving, .backingOff]).state == .degraded)
        #expect(status([.backingOff, .starting]).state == .restarting)
        #expect(status([.starting, .starting]).state == .starting)
        let failed = status([.failed, .serving])
        #expect(failed.state == .failed)
        #expect(failed.errorLogTail == ["boom"])
        #expect(WebserviceStatus(tool: tool, record: nil, replicas: [], limitEnforcement: [:], errorLogTail: []).state == .stopped)
    }
}

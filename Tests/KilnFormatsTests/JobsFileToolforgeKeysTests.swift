import KilnCore
import Testing

@testable import KilnFormats

/// Every key of Toolforge's current `jobs load` (one per `jobs run` option), in the shapes its
/// users write them: `port: 8080/tcp`, `wait: 300`, `health-check-http: /healthz`.
@Suite struct JobsFileToolforgeKeysTests {
    @Test func everyKeyOfToolforgesLoaderIsRead() throws {
        let file = try JobsFile.parse("""
            - name: web
              command: ./serve.sh
              image: python3.11
              continuous: true
              port: 8080/tcp
              replicas: 2
              health-check-http: /healthz
              mem: 1Gi
              cpu: '0.5'
              emails: all
              mount: all
              filelog: true
              filelog-stdout: logs/web.out
              filelog-stderr: logs/web.err
            - name: checked
              command: ./worker.sh
              image: bookworm
              continuous: true
              health-check-script: ./alive.sh
              no-filelog: true
            - name: nightly
              command: ./nightly.sh
              image: bookworm
              schedule: '@daily'
              timeout: 3600
              retry: 2
              timezone: Europe/Berlin
            - name: once
              command: ./once.sh
              image: bookworm
              wait: 300
            """)
        #expect(file.warnings.isEmpty)
        #expect(
            file.jobs == [
                JobSpec(
                    name: "web", command: "./serve.sh", image: "python3.11", continuous: true, emails: .all,
                    memory: MemorySize(bytes: 1 << 30), cpu: CPUQuantity(millicores: 500), filelogStdout: "logs/web.out",
                    filelogStderr: "logs/web.err", port: 8080, replicas: 2, healthCheckHTTP: "/healthz"),
                JobSpec(
                    name: "checked", command: "./worker.sh", image: "bookworm", continuous: true, filelog: false,
                    healthCheckScript: "./alive.sh"),
                JobSpec(
                    name: "nightly", command: "./nightly.sh", image: "bookworm", schedule: "@daily", retry: 2, timeout: 3600,
                    timeZone: "Europe/Berlin"),
                JobSpec(name: "once", command: "./once.sh", image: "bookworm"),
            ])
        #expect(Set(JobsFile.knownKeys).isSuperset(of: [
            "name", "command", "image", "schedule", "continuous", "emails", "mem", "cpu", "retry", "filelog", "filelog-stdout",
            "filelog-stderr", "no-filelog", "mount", "timeout", "port", "replicas", "health-check-script", "health-check-http", "wait",
        ]))
    }

    @Test(arguments: ["8080", "8080/tcp", "'8080/tcp'", "\"8080\""])
    func aPortIsANumberWithOrWithoutTCP(written: String) throws {
        let file = try JobsFile.parse("- name: web\n  command: ./serve\n  image: bookworm\n  continuous: true\n  port: \(written)\n")
        #expect(file.jobs.first?.port == 8080)
        #expect(file.jobs.first?.portProtocol == .tcp)
    }

    static let continuousJob = "- name: web\n  command: ./serve\n  image: bookworm\n  continuous: true\n"

    @Test(arguments: [
        ("  port: 8080/udp\n", "port", "cannot be served here"), ("  port: 0\n", "port", "from 1 to 65535"),
        ("  port: 70000\n", "port", "from 1 to 65535"), ("  port: 80/sctp\n", "port", "tcp or udp"),
        ("  port: http\n", "port", "a number"), ("  health-check-http: /healthz\n", "health-check-http", "needs a port"),
        ("  port: 8080\n  health-check-http: /a b\n", "health-check-http", "URL path"),
        ("  port: 8080\n  health-check-http: /healthz\n  health-check-script: ./x\n", "health-check-http", "not both"),
    ])
    func aBadPortOrCheckNamesItsLineAndField(lines: String, field: String, fragment: String) {
        let error = #expect(throws: KilnError.self) { try JobsFile.parse(Self.continuousJob + lines) }
        #expect(error?.context["field"] == field, "\(String(describing: error))")
        #expect(error?.context["line"].flatMap(Int.init).map { $0 >= 5 } == true, "\(String(describing: error))")
        #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
    }

    @Test(arguments: [("true", true), ("false", true), ("0", true), ("600", true), ("-1", false), ("86401", false), ("soon", false)])
    func waitIsTrueFalseOrSeconds(written: String, accepted: Bool) {
        let text = "- name: once\n  command: ./once\n  image: bookworm\n  wait: \(written)\n"
        if accepted {
            #expect(throws: Never.self) { try JobsFile.parse(text) }
        } else {
            let error = #expect(throws: KilnError.self) { try JobsFile.parse(text) }
            #expect(error?.context["field"] == "wait" && error?.context["line"] == "4", "\(String(describing: error))")
        }
    }

    @Test func aKeyToolforgeDoesNotHaveIsAWarningWithItsLine() throws {
        let file = try JobsFile.parse(Self.continuousJob + "  port: 8080\n  port-protocol: tcp\n")
        #expect(file.jobs.first?.port == 8080)
        #expect(
            file.warnings == [
                JobsFile.Warning(
                    line: 6, job: "web", field: "port-protocol", message: "unknown key 'port-protocol' is ignored (did you mean 'port'?)")
            ])
    }

    @Test func filelogYesAsToolforgesDumpWritesItIsTrueWithAWarning() throws {
        let file = try JobsFile.parse("- name: once\n  command: ./once\n  image: tool-x/y:latest\n  filelog: 'yes'\n")
        #expect(file.jobs.first?.filelog == true)
        #expect(file.warnings == [JobsFile.Warning(line: 4, job: "once", field: "filelog", message: "filelog: 'yes' is read as true; write true")])
        // Only there: elsewhere `yes` is not guessed.
        #expect(throws: KilnError.self) { try JobsFile.parse("- name: once\n  command: ./once\n  image: bookworm\n  continuous: 'yes'\n") }
    }

    @Test func anHTTPCheckIsDumpedAndReadBack() throws {
        let jobs = [
            JobSpec(name: "web", command: "./serve", image: "bookworm", continuous: true, port: 8080, healthCheckHTTP: "/healthz?deep=1")
        ]
        let text = JobsFile.dump(jobs)
        #expect(text.contains("health-check-http: /healthz?deep=1"), "\(text)")
        #expect(text.contains("port: 8080\n"), "\(text)")
        #expect(try JobsFile.parse(text).jobs == jobs)
    }
}

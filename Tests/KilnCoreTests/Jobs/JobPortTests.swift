import KilnCore
import Testing

/// `--port` and jobs.yaml's `port:` as Toolforge writes them: a number, with /tcp or /udp.
@Suite struct JobPortTests {
    @Test(arguments: [
        ("8080", 8080, JobSpec.PortProtocol.tcp), ("8080/tcp", 8080, .tcp), ("8080/udp", 8080, .udp), ("1", 1, .tcp),
        ("65535/tcp", 65535, .tcp), ("080", 80, .tcp),
    ])
    func portsAreRead(text: String, number: Int, portProtocol: JobSpec.PortProtocol) throws {
        let port = try JobPort(parsing: text)
        #expect(port.number == number)
        #expect(port.portProtocol == portProtocol)
    }

    @Test(arguments: [
        "", "0", "65536", "99999999999999999999999", "-1", "+80", " 80", "80 ", "8080/", "/tcp", "8080/TCP", "8080/sctp",
        "8080/tcp/udp", "80.5", "0x50", "８０",
    ])
    func badPortsAreRefusedNamingTheField(text: String) {
        let error = #expect(throws: KilnError.self) { try JobPort(parsing: text) }
        #expect(error?.context["field"] == "port", "\(text)")
    }

    @Test func aNumberOutOfRangeSaysTheRange() {
        let error = #expect(throws: KilnError.self) { try JobPort(parsing: "70000/tcp") }
        #expect(error?.message == "port must be from 1 to 65535, not 70000")
    }

    @Test func udpIsReadButRefusedByTheDeclarationSayingWhy() {
        let spec = JobSpec(name: "dns", command: "./serve", image: "bookworm", continuous: true, port: 5353, portProtocol: .udp)
        let error = #expect(throws: KilnError.self) { try spec.validate() }
        #expect(error?.context["field"] == "port")
        #expect(error?.message.contains("5353/udp cannot be served here") == true, "\(String(describing: error))")
        #expect(error?.message.contains("TCP only") == true)
        var tcp = spec
        tcp.portProtocol = .tcp
        #expect(throws: Never.self) { try tcp.validate() }
        #expect(tcp.jobPort?.description == "5353/tcp")
    }
}

/// A continuous job's port as Toolforge's `--port` and jobs.yaml's `port:` write it: `8080`,
/// `8080/tcp` or `8080/udp` (tcp when no protocol is given).
public struct JobPort: Sendable, Hashable, CustomStringConvertible {
    public var number: Int
    public var portProtocol: JobSpec.PortProtocol

    /// Toolforge's range (a port of the job's own address, so a low one takes nobody's).
    public static let validNumbers = 1...65535

    public init(number: Int, portProtocol: JobSpec.PortProtocol = .tcp) {
        self.number = number
        self.portProtocol = portProtocol
    }

    /// Reads `N` or `N/PROTOCOL`, the number range-checked here, where it enters; every error
    /// names the field `port`.
    public init(parsing text: String) throws(KilnError) {
        func invalid(_ message: String) -> KilnError {
            KilnError(.badRequest, message, context: ["field": "port", "value": String(text.prefix(64))])
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let digits = parts.first ?? ""
        // Only digits, and few enough of them that no conversion can overflow.
        guard !digits.isEmpty, digits.count <= 6, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(digits)
        else {
            throw invalid("port must be a number from 1 to 65535, optionally with /tcp or /udp (8080, 8080/tcp), not '\(text.prefix(64))'")
        }
        guard Self.validNumbers.contains(number) else {
            throw invalid("port must be from \(Self.validNumbers.lowerBound) to \(Self.validNumbers.upperBound), not \(number)")
        }
        var portProtocol = JobSpec.PortProtocol.tcp
        if parts.count == 2, let written = parts.last {
            guard let given = JobSpec.PortProtocol(rawValue: String(written)) else {
                throw invalid("the port's protocol must be tcp or udp, not '\(written.prefix(16))'")
            }
            portProtocol = given
        }
        self.init(number: number, portProtocol: portProtocol)
    }

    public var description: String { "\(number)/\(portProtocol.rawValue)" }
}

/// How a continuous job's replica is seen to be ready and alive, as Toolforge sets Kubernetes'
/// startup and liveness probes: the job's script, a GET of a path at its port, or without either
/// its port accepting connections.
public enum JobHealthCheck: Sendable, Hashable {
    /// `health-check-script`: succeeds when it exits 0.
    case script(String)
    /// `health-check-http`: succeeds when GET http://127.0.0.1:PORT/PATH answers 2xx or 3xx.
    case http(path: String)
    /// No check declared but a port: succeeds when the port accepts a connection.
    case port

    /// The longest `health-check-http` path taken.
    public static let maximumPathLength = 2048

    /// Toolforge's words for `show`'s "Health check" row ("http: /healthz"); nil for the implicit
    /// port check, which Toolforge shows as none.
    public var declared: String? {
        switch self {
        case .script(let script): "script: \(script)"
        case .http(let path): "http: \(path)"
        case .port: nil
        }
    }

    /// The request target of an HTTP check: Kubernetes takes `healthz` as `/healthz`.
    public static func target(of path: String) -> String { path.hasPrefix("/") ? path : "/" + path }

    /// A path that can go into a request line as it is: printable ASCII, no spaces, not too long.
    /// It is the tool's own, but the request is made by the platform, so nothing may be smuggled.
    public static func validate(path: String, job: String) throws(KilnError) {
        let bytes = path.utf8
        let printable = bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        guard !bytes.isEmpty, bytes.count <= maximumPathLength, printable else {
            throw KilnError(
                .badRequest,
                "health-check-http must be a URL path such as /healthz (printable ASCII, no spaces, at most \(maximumPathLength) bytes), not '\(String(path.prefix(64)))'",
                context: ["field": "health-check-http", "job": job])
        }
    }
}

extension JobSpec {
    /// The replica's check, when it has one (a continuous job with a script, a path or a port).
    public var healthCheck: JobHealthCheck? {
        if let script = healthCheckScript { return .script(script) }
        if let path = healthCheckHTTP { return .http(path: path) }
        return port == nil ? nil : .port
    }
}

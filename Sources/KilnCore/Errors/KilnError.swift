/// An error that Kiln reports to a caller: a stable machine-readable code, a one-line message for
/// people, and the context that explains it (the offending value, the field, the line).
public struct KilnError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Code
    public var message: String
    public var context: [String: String]

    public init(_ code: Code, _ message: String, context: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { message }

    /// Codes are strings so that they travel unchanged through JSON and across versions.
    public struct Code: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let badRequest = Code("bad_request")
        public static let invalidName = Code("invalid_name")
        public static let invalidAddress = Code("invalid_address")
        public static let invalidRoute = Code("invalid_route")
        public static let unauthenticated = Code("unauthenticated")
        public static let forbidden = Code("forbidden")
        public static let notFound = Code("not_found")
        public static let conflict = Code("conflict")
        public static let unavailable = Code("unavailable")
        public static let storage = Code("storage")
        public static let hostAccount = Code("host_account")
        public static let internalError = Code("internal")
        public static let invalidWebservice = Code("invalid_webservice")
        public static let invalidQuantity = Code("invalid_quantity")
        public static let quotaExceeded = Code("quota_exceeded")
    }
}

extension KilnError {
    /// How the control-plane API reports this error.
    public var httpStatus: Int {
        switch code {
        case .badRequest, .invalidName, .invalidAddress, .invalidRoute, .invalidWebservice, .invalidQuantity: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .quotaExceeded: 422
        case .unavailable: 503
        default: 500
        }
    }
}

extension KilnError {
    /// A backend that cannot be reached now (a grid's qmaster or slurmctld down): the submission
    /// waits and is made again, costing the run no attempt.
    public static func backendUnreachable(_ backend: String, _ message: String) -> KilnError {
        KilnError(.unavailable, message, context: ["backend": backend, "reachable": "no"])
    }

    public var isBackendUnreachable: Bool { code == .unavailable && context["reachable"] == "no" }
}

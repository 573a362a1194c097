/// The class of a response's status, as a label: `none` is an exchange that ended without one
/// (the client or the backend went away first).
public enum StatusClass: Int, CaseIterable, Sendable, Hashable {
    case informational, success, redirection, clientError, serverError, none

    init(status: UInt) {
        switch status {
        case 100..<200: self = .informational
        case 200..<300: self = .success
        case 300..<400: self = .redirection
        case 400..<500: self = .clientError
        case 500..<600: self = .serverError
        default: self = .none
        }
    }

    public var label: String {
        switch self {
        case .informational: "1xx"
        case .success: "2xx"
        case .redirection: "3xx"
        case .clientError: "4xx"
        case .serverError: "5xx"
        case .none: "none"
        }
    }
}

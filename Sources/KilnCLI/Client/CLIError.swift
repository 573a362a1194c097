/// What the CLI reports to its user; each kind has its exit code.
enum CLIError: Error, CustomStringConvertible {
    /// The user asked for something the server (or the CLI) refused: exit 1.
    case user(String)
    /// The server answered with an error: exit 1.
    case server(status: Int, code: String, message: String)
    /// The server could not be reached or did not make sense: exit 2.
    case unreachable(String)
    /// Said as Toolforge's `jobs` says its errors (`ERROR: …`), for users' scripts.
    indirect case toolforge(CLIError)

    var exitCode: Int32 {
        switch self {
        case .user, .server: 1
        case .unreachable: 2
        case .toolforge(let error): error.exitCode
        }
    }

    var description: String {
        switch self {
        case .user(let message): message
        case .server(_, _, let message): message
        case .unreachable(let message): message
        // Toolforge's logging writes it as `ERROR: Error: …` (see `ToolforgeLog`).
        case .toolforge(let error): "Error: \(error)"
        }
    }
}

import Foundation
import KilnCore

/// Where a proxy follows a control plane's route feed: the API's Unix socket (the platform's own
/// proxy; the kernel says it is root or the operator) or its TCP address with the admin token
/// (a proxy on another machine).
public struct ControlPlaneFeedSource: Sendable, Hashable {
    public enum Endpoint: Sendable, Hashable {
        case unixSocket(path: String)
        case http(HostPort)
    }

    public var endpoint: Endpoint
    public var token: String?
    /// How long the feed may be silent (its heartbeats come every 10 s) before the proxy
    /// reconnects.
    public var silenceLimit: Duration

    public init(endpoint: Endpoint, token: String? = nil, silenceLimit: Duration = .seconds(30)) {
        self.endpoint = endpoint
        self.token = token
        self.silenceLimit = silenceLimit
    }

    /// `unix:PATH` or `http://HOST:PORT`.
    public init(parsing text: String, token: String?) throws(KilnError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            guard path.hasPrefix("/") else {
                throw KilnError(.badRequest, "--control-plane unix:PATH needs an absolute path, not '\(path)'", context: ["field": "control-plane"])
            }
            self.init(endpoint: .unixSocket(path: path), token: token)
        } else if text.hasPrefix("http://") {
            self.init(endpoint: .http(try HostPort(parsing: String(text.dropFirst("http://".count)))), token: token)
        } else {
            throw KilnError(
                .badRequest, "--control-plane must be unix:PATH or http://HOST:PORT, not '\(text)'", context: ["field": "control-plane"])
        }
    }

    /// The feed's URL from `since` on, as AsyncHTTPClient takes it.
    func url(since: RouteFeedPosition?) -> String {
        endpoint.url(target: "/v1/routes/feed" + (since.map { "?since=\($0)" } ?? ""))
    }
}

extension ControlPlaneFeedSource.Endpoint {
    /// `target` (path and query) on the control plane, as AsyncHTTPClient takes it.
    func url(target: String) -> String {
        switch self {
        case .unixSocket(let path):
            let host = path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path
            return "http+unix://\(host)\(target)"
        case .http(let address):
            return "http://\(address)\(target)"
        }
    }
}

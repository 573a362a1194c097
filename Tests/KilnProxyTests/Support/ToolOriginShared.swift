import KilnCore
import NIOCore
import NIOEmbedded

@testable import KilnProxy

/// A proxy's shared state for handler tests: one tool `tool` with a route, on `example.org`.
func toolOriginShared(
    pathRouting: PathRouting, https: HostPort? = HostPort(host: "127.0.0.1", port: 8443), frontPage: FrontPage? = nil
) -> ProxyShared {
    let routes = RouteTableReference()
    routes.apply(.replaced(tool: "tool", routes: [Route(tool: "tool", pattern: ".*", backend: HostPort(host: "127.0.0.1", port: 9))]))
    let configuration = ProxyConfiguration(
        http: HostPort(host: "127.0.0.1", port: 8080), https: https, domain: "example.org", allowHTTP: true,
        pathRouting: pathRouting)
    return ProxyShared(
        configuration: configuration, routes: routes, notices: ToolNotices(), accessLog: nil, owners: BackendOwners(resolver: nil),
        frontPage: frontPage)
}

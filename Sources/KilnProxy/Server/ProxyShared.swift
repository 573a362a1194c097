/// What every connection of one proxy shares: its configuration, the route table, the access log.
final class ProxyShared: Sendable {
    let configuration: ProxyConfiguration
    let routes: RouteTableReference
    let accessLog: AccessLog?

    init(configuration: ProxyConfiguration, routes: RouteTableReference, accessLog: AccessLog?) {
        self.configuration = configuration
        self.routes = routes
        self.accessLog = accessLog
    }
}

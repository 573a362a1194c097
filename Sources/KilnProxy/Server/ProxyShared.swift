/// What every connection of one proxy shares: its configuration, the route table, the tools'
/// notices, the access log, whose listeners tools' backends must be.
final class ProxyShared: Sendable {
    let configuration: ProxyConfiguration
    let routes: RouteTableReference
    let notices: ToolNotices
    let accessLog: AccessLog?
    let owners: BackendOwners

    init(
        configuration: ProxyConfiguration, routes: RouteTableReference, notices: ToolNotices, accessLog: AccessLog?,
        owners: BackendOwners
    ) {
        self.owners = owners
        self.configuration = configuration
        self.routes = routes
        self.notices = notices
        self.accessLog = accessLog
    }
}

/// Every tool of the platform as the front page lists it: name, maintainers and its webservice's
/// type and state. Public by design (Toolforge's front page shows as much), read-only, and what
/// the control plane's `GET /v1/directory` sends to proxies. Everything in it is the tools' own
/// words: whoever shows it escapes it.
public struct ToolDirectory: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        public var name: String
        public var maintainers: [String]
        /// nil: no webservice is declared (stopped).
        public var webservice: Webservice?

        public init(name: String, maintainers: [String], webservice: Webservice?) {
            self.name = name
            self.maintainers = maintainers
            self.webservice = webservice
        }
    }

    public struct Webservice: Sendable, Hashable, Codable {
        /// The type's name (`python3.11`, `static`…).
        public var type: String
        /// A `WebserviceStatus.State`'s raw value; kept as text so that a proxy older than its
        /// control plane still shows a state it does not know.
        public var state: String

        public init(type: String, state: String) {
            self.type = type
            self.state = state
        }

        /// The state, when this version knows it.
        public var knownState: WebserviceStatus.State? { WebserviceStatus.State(rawValue: state) }
    }

    /// Sorted by name.
    public var tools: [Entry]

    public init(tools: [Entry]) {
        self.tools = tools.sorted { $0.name < $1.name }
    }

    /// The directory of stored tools, their declared webservices and those webservices' replicas;
    /// a webservice's state is the one `webservice status` reports.
    public init(tools: [Tool], webservices: [WebserviceRecord], replicas: [ToolName: [ReplicaRecord]]) {
        var declared: [ToolName: WebserviceRecord] = [:]
        for record in webservices { declared[record.tool] = record }
        self.init(
            tools: tools.map { tool in
                let webservice = declared[tool.name].map { record in
                    Webservice(
                        type: record.spec.type.name,
                        state: WebserviceStatus.state(record: record, replicas: replicas[tool.name] ?? []).rawValue)
                }
                return Entry(name: tool.name.rawValue, maintainers: tool.maintainers, webservice: webservice)
            })
    }
}

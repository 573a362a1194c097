import KilnCore

/// One tool as the template shows it: every field is the text to print (the template escapes it).
struct FrontPageRow {
    struct Link {
        var href: String
        var text: String
    }

    var toolName: String
    var maintainers: String
    var webserviceType: String
    var state: String
    /// The CSS class of the state's badge (colour only repeats what the text says).
    var stateClass: String
    var pathLink: Link?
    var hostLink: Link?
    /// Whether the tool is served at all (a webservice is declared): else no link.
    var served: Bool

    init(_ entry: ToolDirectory.Entry, links: FrontPageLinks) {
        toolName = entry.name
        maintainers = entry.maintainers.isEmpty ? "none listed" : entry.maintainers.joined(separator: ", ")
        webserviceType = entry.webservice?.type ?? "none"
        state = entry.webservice?.state ?? WebserviceStatus.State.stopped.rawValue
        stateClass = Self.stateClass(entry.webservice.map { $0.knownState } ?? .stopped)
        served = entry.webservice != nil
        if served {
            pathLink = links.path(of: entry.name).map { Link(href: $0, text: $0) }
            if let url = links.hostURL(of: entry.name), let host = links.host(of: entry.name) {
                hostLink = Link(href: url, text: host)
            }
        }
    }

    static func stateClass(_ state: WebserviceStatus.State?) -> String {
        guard let state else { return "unknown" }
        switch state {
        case .running: return "up"
        case .starting, .degraded, .restarting: return "busy"
        case .failed: return "down"
        case .stopped: return "off"
        }
    }
}

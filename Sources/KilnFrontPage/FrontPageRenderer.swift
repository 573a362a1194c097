import KilnCore
import Mustache

/// Renders the directory of tools as the front page's HTML. Tools' names, maintainers and types
/// are hostile input: the template prints them escaped, and only a valid tool name becomes a link.
public struct FrontPageRenderer: Sendable {
    /// What the template sees.
    struct View {
        var domain: String
        var summary: String
        var hasTools: Bool
        var rows: [FrontPageRow]
    }

    private let template: MustacheTemplate
    public let links: FrontPageLinks

    public init(links: FrontPageLinks) throws {
        template = try MustacheTemplate(string: FrontPageTemplate.text)
        self.links = links
    }

    public func render(_ directory: ToolDirectory) -> String {
        let rows = directory.tools.map { FrontPageRow($0, links: links) }
        let running = directory.tools.count(where: { $0.webservice?.knownState == .running })
        let view = View(
            domain: links.domain, summary: Self.summary(tools: rows.count, running: running), hasTools: !rows.isEmpty, rows: rows)
        return template.render(view)
    }

    /// "2 tools, 1 webservice running."
    static func summary(tools: Int, running: Int) -> String {
        let toolCount = tools == 1 ? "1 tool" : "\(tools) tools"
        let runningCount =
            switch running {
            case 0: "no webservice running"
            case 1: "1 webservice running"
            default: "\(running) webservices running"
            }
        return "\(toolCount), \(runningCount)."
    }
}

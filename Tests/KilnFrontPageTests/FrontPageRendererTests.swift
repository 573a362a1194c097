import KilnCore
import Testing

@testable import KilnFrontPage

@Suite struct FrontPageRendererTests {
    func render(_ tools: [ToolDirectory.Entry], domain: String = "localhost", httpsPort: Int? = 8443) throws -> String {
        try FrontPageRenderer(links: FrontPageLinks(domain: domain, httpsPort: httpsPort)).render(ToolDirectory(tools: tools))
    }

    func entry(_ name: String, _ maintainers: [String] = ["alice"], type: String = "python3.11", state: String?) -> ToolDirectory.Entry {
        ToolDirectory.Entry(name: name, maintainers: maintainers, webservice: state.map { .init(type: type, state: $0) })
    }

    @Test func aHostileToolIsPrintedEscapedAndNeverLinked() throws {
        let html = try render([
            entry("<script>alert(1)</script>", [#""><img src=x onerror=alert(2)>"#, "o'brien&co"], type: "<b>php</b>", state: "running"),
            entry("{{domain}}", ["{{{summary}}}"], state: "<i>up</i>"),
        ])
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>php"))
        #expect(!html.contains("<i>up"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;, o&#39;brien&amp;co"))
        #expect(html.contains("&lt;b&gt;php&lt;/b&gt;"))
        // A tool's words are data, never template: printed as they are, not expanded.
        #expect(html.contains("<th scope=\"row\" role=\"rowheader\">{{domain}}</th>"))
        #expect(html.contains("data-label=\"Maintainers\">{{{summary}}}</td>"))
        // Only a valid tool name becomes an address.
        #expect(!html.contains("href=\"/&lt;"))
        #expect(!html.contains("href=\"/{{"))
        #expect(!html.contains("<a href"))
    }

    @Test func eachStateIsSaidInWordsWithABadge() throws {
        let html = try render([
            entry("web", state: "running"), entry("boot", state: "starting"), entry("half", state: "degraded"),
            entry("again", state: "restarting"), entry("broken", state: "failed"), entry("idle", state: nil),
            entry("future", state: "hibernating"),
        ])
        #expect(html.contains(#"<span class="state up">running</span>"#))
        #expect(html.contains(#"<span class="state busy">starting</span>"#))
        #expect(html.contains(#"<span class="state busy">degraded</span>"#))
        #expect(html.contains(#"<span class="state busy">restarting</span>"#))
        #expect(html.contains(#"<span class="state down">failed</span>"#))
        #expect(html.contains(#"<span class="state off">stopped</span>"#))
        // A state this version does not know is still shown as the control plane said it.
        #expect(html.contains(#"<span class="state unknown">hibernating</span>"#))
        // A tool without a webservice has no address to go to.
        let idle = try #require(html.range(of: "<th scope=\"row\" role=\"rowheader\">idle</th>"))
        let idleRow = html[idle.upperBound...].split(separator: "</tr>").first ?? ""
        #expect(idleRow.contains("data-label=\"Webservice\">none</td>"))
        #expect(idleRow.contains("not served"))
        #expect(!idleRow.contains("<a "))
        #expect(html.contains("<p>7 tools, 1 webservice running.</p>"))
    }

    @Test func noToolsSaysSoWithoutAnEmptyTable() throws {
        let html = try render([])
        #expect(html.contains("No tools yet."))
        #expect(!html.contains("<table"))
        #expect(html.contains("<p>0 tools, no webservice running.</p>"))
    }

    @Test func thePageIsAnAccessibleDocument() throws {
        let html = try render([entry("web", ["alice", "bob"], state: "running")])
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.contains("<title>Tools on localhost · Kiln</title>"))
        #expect(html.contains("<meta name=\"viewport\""))
        #expect(html.contains("<h1>Tools on localhost</h1>"))
        #expect(html.contains("<caption id=\"tools-caption\">"))
        #expect(html.contains(#"<th scope="col" role="columnheader">Tool</th>"#))
        #expect(html.contains(#"<th scope="row" role="rowheader">web</th>"#))
        #expect(html.contains("data-label=\"Maintainers\">alice, bob</td>"))
        // The link's text is where it goes.
        #expect(html.contains(#"<a href="/web/">/web/</a>"#))
        #expect(!html.contains("<script"))
    }

    @Test func aDeploymentWithADomainLinksEachToolsOwnHost() throws {
        let html = try render([entry("web", state: "running")], domain: "toolforge.example", httpsPort: 8443)
        #expect(html.contains(#"<a href="/web/">/web/</a>"#))
        #expect(html.contains(#"<a href="https://web.toolforge.example:8443/">web.toolforge.example</a>"#))
        let standard = try render([entry("web", state: "running")], domain: "toolforge.example", httpsPort: 443)
        #expect(standard.contains(#"<a href="https://web.toolforge.example/">web.toolforge.example</a>"#))
        // localhost and addresses: the tools' hosts are not a browser's to reach, so no host link.
        for local in ["localhost", "127.0.0.1"] {
            #expect(!(try render([entry("web", state: "running")], domain: local)).contains("https://web."))
        }
    }

    @Test func theSummaryCountsInWords() {
        #expect(FrontPageRenderer.summary(tools: 1, running: 0) == "1 tool, no webservice running.")
        #expect(FrontPageRenderer.summary(tools: 3, running: 2) == "3 tools, 2 webservices running.")
    }
}

import Foundation
import KilnAPI
import KilnAccounts
import KilnCore
import KilnFiles
import KilnStore
import Logging

/// `kiln serve --demo`: the tool `hello` with a small page, served by a static webservice that the
/// platform starts as the tool's user, registers with the proxy and keeps running.
enum DemoTool {
    static let name = "hello"

    static func prepare(
        tools: ToolService, store: KilnStore, accounts: HostAccounts, webservices: any WebserviceControl, logger: Logger
    ) async throws {
        let toolName = try ToolName(name)
        let tool: Tool
        if let existing = try await store.tool(named: toolName) {
            tool = existing
        } else {
            tool = try await tools.create(name: toolName, maintainers: ["demo"]).tool
            logger.notice("created the demo tool", metadata: ["tool": "\(name)"])
        }
        let page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Hello from Kiln</title></head>
            <body><h1>Hello from Kiln</h1>
            <p>This page is the tool <code>hello</code>'s webservice: a static site that Kiln serves from
            the tool's <code>public_html/</code>, in a process started as the tool's own user, registered
            with the front proxy and kept running.</p></body></html>

            """
        // Through the home as the tool's own: whatever the tool left at that name is replaced,
        // never written through.
        let files = ConfinedDirectory(path: accounts.home(of: toolName), owner: FileOwner(tool.unixUser))
        try files.write(Array(page.utf8), to: HomePath(platform: "public_html", "index.html"), mode: 0o644)
        // A static webservice like any tool's: supervised, probed and registered by the monitor.
        if try await webservices.status(tool: toolName).state == .stopped {
            _ = try await webservices.start(tool: toolName, spec: try WebserviceSpec(type: .staticFiles))
        }
    }
}


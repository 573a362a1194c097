import Foundation
import KilnAPI
import KilnAccounts
import KilnCore
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
        let home = accounts.home(of: toolName)
        let site = home + "/public_html"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        let page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Hello from Kiln</title></head>
            <body><h1>Hello from Kiln</h1>
            <p>This page is the tool <code>hello</code>'s webservice: a static site that Kiln serves from
            the tool's <code>public_html/</code>, in a process started as the tool's own user, registered
            with the front proxy and kept running.</p></body></html>

            """
        try Data(page.utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        if let user = tool.unixUser {
            for path in [site, site + "/index.html"] { chown(path, user.uid, user.gid) }
        }
        // A static webservice like any tool's: supervised, probed and registered by the monitor.
        if try await webservices.status(tool: toolName).state == .stopped {
            _ = try await webservices.start(tool: toolName, spec: try WebserviceSpec(type: .staticFiles))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

import Foundation
import KilnAPI
import KilnAccounts
import KilnCore
import KilnRunner
import KilnStore
import Logging

/// `kiln serve --demo`: the tool `hello` with a small page, served by a real process that the
/// platform starts as the tool's user and registers with the proxy.
enum DemoTool {
    static let name = "hello"

    static func prepare(
        tools: ToolService, store: KilnStore, accounts: HostAccounts, routes: any RouteRegistry, logger: Logger
    ) async throws -> SupervisedProcess {
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
            <p>This page is the tool <code>hello</code>'s webservice: a process that Kiln started as the
            tool's own user, registered with the front proxy, and keeps running.</p></body></html>

            """
        try Data(page.utf8).write(to: URL(fileURLWithPath: site + "/index.html"))
        // The proxy passes paths unchanged (`/hello/...`, as the seed did), while host routing
        // sends `/`: the site answers under both.
        let alias = site + "/" + name
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: alias)) == nil {
            try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: ".")
        }
        if let user = tool.unixUser {
            for path in [site, site + "/index.html"] { chown(path, user.uid, user.gid) }
        }
        let backend = HostPort(host: "127.0.0.1", port: try PortAllocator.freeLoopbackPort())
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/bin/python3"
        let spec = ProcessSpec(
            executable: python,
            arguments: ["-m", "http.server", String(backend.port), "--bind", backend.host, "--directory", site],
            environment: [
                "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TOOL": name, "PORT": String(backend.port),
                "PYTHONUNBUFFERED": "1",
            ],
            workingDirectory: home, user: tool.unixUser,
            standardOutputPath: home + "/logs/web.out", standardErrorPath: home + "/logs/web.err")
        let route = Route(tool: name, pattern: Route.matchAll, backend: backend)
        return SupervisedProcess(
            name: "webservice \(name)", spec: spec, logger: logger,
            onRunning: { _ in
                guard await PortAllocator.waitUntilListening(backend, timeout: .seconds(30)) else {
                    logger.error("the demo webservice did not start listening", metadata: ["backend": "\(backend)"])
                    return
                }
                do {
                    try await routes.add(route)
                    logger.notice("demo webservice registered", metadata: ["backend": "\(backend)"])
                } catch {
                    logger.error("cannot register the demo route: \(error)")
                }
            },
            onExit: { _ in _ = try? await routes.remove(tool: name, pattern: Route.matchAll, backend: backend) })
    }
}

#if canImport(Glibc)
import Glibc
#endif

import KilnCore
import KilnFrontPage
import KilnProxy

/// The proxy's front page made from a directory of tools: fetched (from the control plane's
/// store in its own process, or over its API) and rendered with the proxy's own domain and
/// HTTPS port, so each proxy links tools where it serves them. The proxy keeps what this makes
/// for a moment (`FrontPage`).
struct DirectoryFrontPage: FrontPageSource {
    let directory: any ToolDirectorySource
    let renderer: FrontPageRenderer

    init(directory: any ToolDirectorySource, proxy configuration: ProxyConfiguration) throws {
        self.directory = directory
        renderer = try FrontPageRenderer(links: FrontPageLinks(domain: configuration.domain, httpsPort: configuration.https?.port))
    }

    func page() async throws -> String {
        renderer.render(try await directory.directory())
    }
}

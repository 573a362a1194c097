/// What the proxy shows at `/`: the page's HTML, made from the control plane's directory of tools
/// (`KilnServer` composes the fetch and the rendering). A throw means the control plane is away.
public protocol FrontPageSource: Sendable {
    func page() async throws -> String
}

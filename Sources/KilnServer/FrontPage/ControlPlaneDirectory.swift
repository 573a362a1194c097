import AsyncHTTPClient
import Foundation
import KilnCore
import NIOCore

/// The directory of tools as a proxy of its own gets it: the control plane's public
/// `GET /v1/directory`, on its Unix socket or its TCP address. No token goes with it: the
/// directory is what everyone may read.
struct ControlPlaneDirectory: ToolDirectorySource {
    let endpoint: ControlPlaneFeedSource.Endpoint
    /// How long the control plane may take: past it, the front page says it is unavailable.
    var timeout: TimeAmount = .seconds(5)
    /// A directory of 100,000 tools is a few MiB: more is no directory.
    static let largestBody = 64 << 20

    func directory() async throws -> ToolDirectory {
        let request = HTTPClientRequest(url: endpoint.url(target: "/v1/directory"))
        let response = try await HTTPClient.shared.execute(request, deadline: .now() + timeout)
        let body = try await response.body.collect(upTo: Self.largestBody)
        guard response.status == .ok else {
            throw KilnError(.unavailable, "the control plane's directory answered \(response.status.code): \(String(buffer: body).prefix(200))")
        }
        return try JSONDecoder().decode(ToolDirectory.self, from: Data(body.readableBytesView))
    }
}

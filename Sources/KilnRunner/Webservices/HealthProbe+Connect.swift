import KilnCore
import NIOCore
import NIOPosix

extension HealthProbe {
    /// Whether a listener of `owner` accepts a TCP connection at `backend` (a continuous job's
    /// port, which need not speak HTTP).
    public static func acceptsConnections(
        _ backend: HostPort, owner: BackendOwner, timeout: TimeAmount = .seconds(1),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: group).connectTimeout(timeout)
                .connect(host: backend.host, port: backend.port).get()
            let admitted = socketOwners.admits(channel, expected: owner)
            try? await channel.close()
            return admitted
        } catch {
            return false
        }
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Clients that keep requesting one URL, each on a keep-alive connection of its own, until told to
/// finish; every request is counted as 2xx, another status or an error. It awaits AsyncHTTPClient's
/// event loops, so it holds no thread of the cooperative pool while requests are on the wire.
final class HTTPLoad: Sendable {
    struct Report: Sendable, CustomStringConvertible {
        var requests = 0
        /// What went wrong and how often: `status 503`, or the client's error.
        var failures: [String: Int] = [:]

        var failed: Int { failures.values.reduce(0, +) }
        var description: String {
            "\(requests) requests, \(failed) failed" + (failures.isEmpty ? "" : ": \(failures.sorted { $0.key < $1.key })")
        }
    }

    private let client: HTTPClient
    private let report = Mutex(Report())
    private let stopping = Atomic<Bool>(false)
    private let clients = Mutex<Task<Void, Never>?>(nil)

    init(url: String, concurrency: Int) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let task = Task { [self] in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency { group.addTask { await self.keepRequesting(url) } }
            }
        }
        clients.withLock { $0 = task }
    }

    private func keepRequesting(_ url: String) async {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "kiln-test-load")
        while !stopping.load(ordering: .relaxed) {
            let outcome: String?
            do {
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                outcome = (200..<300).contains(response.status.code) ? nil : "status \(response.status.code)"
            } catch {
                outcome = "\(error)"
            }
            report.withLock { report in
                report.requests += 1
                if let outcome { report.failures[outcome, default: 0] += 1 }
            }
        }
    }

    /// What has been counted so far.
    var current: Report { report.withLock { $0 } }

    /// Stops the clients once their requests under way end, and returns the count.
    func finish() async -> Report {
        stopping.store(true, ordering: .relaxed)
        await clients.withLock { $0 }?.value
        try? await client.shutdown()
        return current
    }
}

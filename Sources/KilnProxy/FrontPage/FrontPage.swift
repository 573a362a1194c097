import NIOCore
import Synchronization

/// The proxy's answer to `/`: the source's page, kept for `lifetime`, so however many clients ask,
/// the control plane is asked at most once per `lifetime`. Requests that come while it is asked
/// wait for that one answer. A source that fails gives a short 503, kept as long, while tools go
/// on being served.
public final class FrontPage: Sendable {
    public static let defaultLifetime: TimeAmount = .seconds(2)

    private struct State {
        var cached: (response: LocalResponse, at: NIODeadline)?
        var loading = false
        var waiting: [EventLoopPromise<LocalResponse>] = []
    }

    private let source: any FrontPageSource
    private let lifetime: TimeAmount
    private let state = Mutex(State())

    public init(source: any FrontPageSource, lifetime: TimeAmount = FrontPage.defaultLifetime) {
        self.source = source
        self.lifetime = lifetime
    }

    /// The page, at once when the one kept is fresh, else once the source has answered; the
    /// future is `loop`'s, so a handler's callbacks run on its own event loop.
    func response(on loop: any EventLoop) -> EventLoopFuture<LocalResponse> {
        let now = NIODeadline.now()
        let lookup: Lookup = state.withLock { state in
            if let cached = state.cached, now - cached.at < lifetime { return .fresh(cached.response) }
            let promise = loop.makePromise(of: LocalResponse.self)
            state.waiting.append(promise)
            defer { state.loading = true }
            return .wait(promise, startsLoad: !state.loading)
        }
        switch lookup {
        case .fresh(let response):
            return loop.makeSucceededFuture(response)
        case .wait(let promise, let startsLoad):
            if startsLoad { Task { await self.load() } }
            return promise.futureResult
        }
    }

    private enum Lookup {
        case fresh(LocalResponse)
        case wait(EventLoopPromise<LocalResponse>, startsLoad: Bool)
    }

    /// Asks the source, keeps its answer and hands it to every request waiting for it.
    @discardableResult
    func load() async -> LocalResponse {
        let response: LocalResponse
        do {
            response = .frontPage(try await source.page())
        } catch {
            response = .frontPageUnavailable
        }
        let waiting = state.withLock { state in
            state.cached = (response, .now())
            state.loading = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for promise in waiting { promise.succeed(response) }
        return response
    }
}

import KilnCore
import KilnStore

/// The directory of tools, read from the store at most once per `lifetime` however often it is
/// asked for: the directory is public, and `/` must not be a way to load the store. Callers that
/// come while a read is under way wait for that read.
public actor ToolDirectoryService: ToolDirectorySource {
    public static let defaultLifetime: Duration = .seconds(2)

    private let load: @Sendable () async throws -> ToolDirectory
    private let lifetime: Duration
    private var cached: (directory: ToolDirectory, at: ContinuousClock.Instant)?
    private var loading: Task<ToolDirectory, any Error>?

    public init(store: KilnStore, lifetime: Duration = ToolDirectoryService.defaultLifetime) {
        self.init(lifetime: lifetime) { try await store.directory() }
    }

    init(lifetime: Duration, load: @escaping @Sendable () async throws -> ToolDirectory) {
        self.load = load
        self.lifetime = lifetime
    }

    public func directory() async throws -> ToolDirectory {
        if let cached, ContinuousClock.now - cached.at < lifetime { return cached.directory }
        if let loading { return try await loading.value }
        let task = Task { try await load() }
        loading = task
        defer { loading = nil }
        let directory = try await task.value
        cached = (directory, ContinuousClock.now)
        return directory
    }
}

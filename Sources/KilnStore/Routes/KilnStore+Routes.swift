import GRDB
import KilnCore

extension KilnStore {
    /// Every route, grouped by tool, each tool's in registration order.
    public func routes() async throws(KilnError) -> [Route] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT tool, pattern, backend FROM routes ORDER BY tool, position, backend_position")
                .compactMap(Self.route(from:))
        }
    }

    public func routes(of tool: String) async throws(KilnError) -> [Route] {
        try await read { db in try Self.fetchRoutes(db, tool: tool) }
    }

    /// Adds the route's backend to its pattern: a new pattern goes after the tool's others, a new
    /// backend of a known pattern after that pattern's backends, a known one stays where it is.
    /// Pushes the tool's routes to subscribers even when nothing changed: a re-registration tells
    /// proxies the backend is back.
    public func addRoute(_ route: Route) async throws(KilnError) {
        let broadcast = routeChanges
        try await write { db in
            try Self.checkRoomForPattern(db, tool: route.tool, pattern: route.pattern)
            let (position, backendPosition) = try Self.nextPlace(db, tool: route.tool, pattern: route.pattern)
            try db.execute(
                sql: """
                    INSERT INTO routes (tool, position, pattern, backend, backend_position) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (tool, pattern, backend) DO NOTHING
                    """,
                arguments: [route.tool, position, route.pattern, route.backend.description, backendPosition]
            )
            try Self.publishOnCommit(db, tool: route.tool, to: broadcast)
        }
    }

    /// Makes the route's backend the only one of its pattern, which keeps its place (or goes after
    /// the tool's others when new).
    public func replaceRoute(_ route: Route) async throws(KilnError) {
        let broadcast = routeChanges
        try await write { db in
            try Self.checkRoomForPattern(db, tool: route.tool, pattern: route.pattern)
            let (position, _) = try Self.nextPlace(db, tool: route.tool, pattern: route.pattern)
            try db.execute(sql: "DELETE FROM routes WHERE tool = ? AND pattern = ?", arguments: [route.tool, route.pattern])
            try db.execute(
                sql: "INSERT INTO routes (tool, position, pattern, backend, backend_position) VALUES (?, ?, ?, ?, 0)",
                arguments: [route.tool, position, route.pattern, route.backend.description]
            )
            try Self.publishOnCommit(db, tool: route.tool, to: broadcast)
        }
    }

    /// Removes `backend` from the tool's pattern, or without a backend the whole pattern (all its
    /// backends). Returns whether anything was removed.
    @discardableResult
    public func removeRoute(tool: String, pattern: String, backend: HostPort? = nil) async throws(KilnError) -> Bool {
        let broadcast = routeChanges
        return try await write { db in
            if let backend {
                try db.execute(
                    sql: "DELETE FROM routes WHERE tool = ? AND pattern = ? AND backend = ?",
                    arguments: [tool, pattern, backend.description])
            } else {
                try db.execute(sql: "DELETE FROM routes WHERE tool = ? AND pattern = ?", arguments: [tool, pattern])
            }
            guard db.changesCount > 0 else { return false }
            try Self.publishOnCommit(db, tool: tool, to: broadcast)
            return true
        }
    }

    /// Publishes the tool's routes once the transaction commits: the writer is serial, so
    /// subscribers see changes in commit order, and never one that was rolled back.
    static func publishOnCommit(_ db: Database, tool: String, to broadcast: RouteChangeBroadcast) throws {
        let routes = try fetchRoutes(db, tool: tool)
        db.afterNextTransaction { _ in broadcast.publish(.replaced(tool: tool, routes: routes)) }
    }

    /// A stream of route changes made through this store, starting after the call.
    public func routeUpdates() -> AsyncStream<RouteChange> {
        routeChanges.subscribe()
    }

    /// Refuses a pattern new to the tool when it has `RouteLimits.patternsPerTool` already; in
    /// the registration's transaction, so concurrent registrations cannot pass it together.
    static func checkRoomForPattern(_ db: Database, tool: String, pattern: String) throws {
        let known = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM routes WHERE tool = ? AND pattern = ?)", arguments: [tool, pattern]) ?? false
        guard !known else { return }
        let patterns = try Int.fetchOne(
            db, sql: "SELECT COUNT(DISTINCT pattern) FROM routes WHERE tool = ?", arguments: [tool]) ?? 0
        guard patterns < RouteLimits.patternsPerTool else { throw RouteLimits.tooManyPatterns(tool: tool, pattern: pattern) }
    }

    /// Where a new backend of the pattern goes: the pattern's place (after the tool's other
    /// patterns when it is new) and after the pattern's backends.
    static func nextPlace(_ db: Database, tool: String, pattern: String) throws -> (position: Int, backendPosition: Int) {
        if let row = try Row.fetchOne(
            db, sql: "SELECT position, MAX(backend_position) + 1 AS next FROM routes WHERE tool = ? AND pattern = ?",
            arguments: [tool, pattern]), let position: Int = row["position"]
        {
            return (position, row["next"])
        }
        let position = try Int.fetchOne(
            db, sql: "SELECT COALESCE(MAX(position), -1) + 1 FROM routes WHERE tool = ?", arguments: [tool]) ?? 0
        return (position, 0)
    }

    static func fetchRoutes(_ db: Database, tool: String) throws -> [Route] {
        try Row.fetchAll(
            db, sql: "SELECT tool, pattern, backend FROM routes WHERE tool = ? ORDER BY position, backend_position",
            arguments: [tool]
        ).compactMap(route(from:))
    }

    static func route(from row: Row) -> Route? {
        guard let backend = try? HostPort(parsing: row["backend"]) else { return nil }
        return Route(tool: row["tool"], pattern: row["pattern"], backend: backend)
    }
}

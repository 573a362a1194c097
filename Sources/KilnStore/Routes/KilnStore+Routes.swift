import GRDB
import KilnCore

extension KilnStore {
    /// Every route, grouped by tool in registration order.
    public func routes() async throws(KilnError) -> [Route] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT tool, pattern, backend FROM routes ORDER BY tool, position")
                .compactMap(Self.route(from:))
        }
    }

    public func routes(of tool: String) async throws(KilnError) -> [Route] {
        try await read { db in try Self.fetchRoutes(db, tool: tool) }
    }

    /// Adds `route` after the tool's existing routes, or points an existing pattern at a new backend
    /// (keeping its place). Pushes the tool's new routes to subscribers.
    public func addRoute(_ route: Route) async throws(KilnError) {
        let broadcast = routeChanges
        try await write { db in
            let position = try Int.fetchOne(
                db, sql: "SELECT COALESCE(MAX(position), -1) + 1 FROM routes WHERE tool = ?", arguments: [route.tool]) ?? 0
            try db.execute(
                sql: """
                    INSERT INTO routes (tool, position, pattern, backend) VALUES (?, ?, ?, ?)
                    ON CONFLICT (tool, pattern) DO UPDATE SET backend = excluded.backend
                    """,
                arguments: [route.tool, position, route.pattern, route.backend.description]
            )
            try Self.publishOnCommit(db, tool: route.tool, to: broadcast)
        }
    }

    /// Removes the tool's route with `pattern` (and, when given, only if it points at `backend`).
    /// Returns whether a route was removed.
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

    static func fetchRoutes(_ db: Database, tool: String) throws -> [Route] {
        try Row.fetchAll(
            db, sql: "SELECT tool, pattern, backend FROM routes WHERE tool = ? ORDER BY position", arguments: [tool]
        ).compactMap(route(from:))
    }

    static func route(from row: Row) -> Route? {
        guard let backend = try? HostPort(parsing: row["backend"]) else { return nil }
        return Route(tool: row["tool"], pattern: row["pattern"], backend: backend)
    }
}

import ArgumentParser
import KilnRedis

/// Where the routes live: the embedded store (default for `serve`) or a shared Redis.
struct RouteSourceOptions: ParsableArguments {
    @Option(help: "Keep routes in Redis (redis://HOST:PORT[/DB]) to share them between proxies.")
    var routes: String?
    @Option(help: "The prefix of the route hashes in Redis (PREFIX:TOOL).") var routesPrefix: String = "prefix"
    @Option(help: "Seconds between full resyncs from Redis (default: 300 while Redis notifies changes, else 30).")
    var routesResync: Int?

    var resyncInterval: Duration? { routesResync.map { .seconds($0) } }

    func redisURL() throws -> RedisURL? {
        try routes.map { text throws in try RedisURL(parsing: text) }
    }
}

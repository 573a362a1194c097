import ArgumentParser
import KilnRedis
import KilnServer

/// Where the routes live: the embedded store (default for `serve`) or a shared Redis.
struct RouteSourceOptions: ParsableArguments {
    @Option(
        help: """
            Keep routes in Redis (redis://[USER:PASSWORD@]HOST:PORT[/DB], user and password percent-encoded) to \
            share them between proxies.
            """)
    var routes: String?
    @Option(help: "A file (not readable by others) whose first line is the Redis password of --routes' user.")
    var routesPasswordFile: String?
    @Option(help: "The prefix of the route hashes in Redis (PREFIX:TOOL).") var routesPrefix: String = "prefix"
    @Option(help: "Seconds between full resyncs from Redis (default: 300 while Redis notifies changes, else 30).")
    var routesResync: Int?
    @Flag(help: "Let Kiln change Redis' configuration: turn on the keyspace notifications route changes need.")
    var redisConfigure = false

    var resyncInterval: Duration? { routesResync.map { .seconds($0) } }

    /// Whether the password was given in `--routes` itself, where `ps` shows it.
    var passwordInArguments: Bool { routesPasswordFile == nil && (routes.flatMap { try? RedisURL(parsing: $0) })?.password != nil }

    /// The Redis URL with its password (from the URL or the password file), nil without `--routes`.
    func redisURL() throws -> RedisURL? {
        guard let routes else {
            guard routesPasswordFile == nil else { throw CLIError.user("--routes-password-file needs --routes") }
            return nil
        }
        var url = try RedisURL(parsing: routes)
        if let routesPasswordFile {
            guard url.password == nil else {
                throw CLIError.user("give the Redis password once: in --routes or in --routes-password-file, not both")
            }
            url.password = try PasswordFile(path: routesPasswordFile).read()
        } else if let user = url.user, url.password == nil {
            throw CLIError.user("--routes names the Redis user '\(user)' without a password: add it, or give --routes-password-file")
        }
        return url
    }

    /// Where the routes live, as the platform takes it.
    func source() throws -> RouteSource {
        guard let url = try redisURL() else { return .store }
        return .redis(
            RedisRouteSource(
                url: url, prefix: routesPrefix, resyncInterval: resyncInterval, configuresKeyspaceEvents: redisConfigure,
                passwordInArguments: passwordInArguments))
    }
}

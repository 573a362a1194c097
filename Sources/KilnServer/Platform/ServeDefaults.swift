/// The embedded defaults: one machine, loopback only, everything under one data directory.
public enum ServeDefaults {
    public static let dataDirectory = "./.kiln-data"
    public static let api = "127.0.0.1:8081"
    public static let http = "127.0.0.1:8080"
    public static let https = "127.0.0.1:8443"
    public static let domain = "localhost"
    public static let socketName = "kiln.sock"
    public static let storeName = "kiln.sqlite"
    public static let adminTokenName = "admin.token"
    /// What scrapes of the proxy's metrics bring (not the admin token: a scraper can do no more).
    public static let metricsTokenName = "metrics.token"
    public static let envvarsKeyName = "envvars.key"
    public static let lockName = "kiln.lock"
    public static let proxyReadyName = "proxy.ready"
}

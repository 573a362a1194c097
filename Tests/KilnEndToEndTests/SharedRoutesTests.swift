import Foundation
import KilnTesting
import Testing

/// Several proxies sharing one real Redis, as larger installations run them.
@Suite(.serialized) struct SharedRoutesTests {
    final class ProxyProcess: @unchecked Sendable {
        let httpPort = freeLoopbackPort()
        let process = Process()
        let directory: String

        convenience init(redis: RedisServer) throws {
            try self.init(routes: redis.url)
        }

        init(routes: String, arguments: [String] = []) throws {
            directory = try makeTemporaryDirectory(prefix: "kx")
            process.executableURL = URL(fileURLWithPath: KilnBinary.path)
            process.arguments = [
                "proxy", "--routes", routes, "--http", "127.0.0.1:\(httpPort)", "--https", "off", "--allow-http",
                "--data", directory, "--routes-resync", "2",
            ] + arguments
            FileManager.default.createFile(atPath: directory + "/proxy.log", contents: nil)
            let log = FileHandle(forWritingAtPath: directory + "/proxy.log")
            process.standardOutput = log
            process.standardError = log
            try process.run()
        }

        var log: String { (try? String(contentsOfFile: directory + "/proxy.log", encoding: .utf8)) ?? "" }

        func status(_ path: String) -> Int? {
            guard let reply = try? rawExchange(
                port: httpPort, Array("GET \(path) HTTP/1.1\r\nHost: x\r\nUser-Agent: kiln-test\r\nConnection: close\r\n\r\n".utf8), timeout: 2)
            else { return nil }
            return Int(reply.response.dropFirst("HTTP/1.1 ".count).prefix(3))
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    /// Polls until `condition` holds; returns the time it took, or nil after `timeout`.
    func timeUntil(_ timeout: TimeInterval = 10, _ condition: () -> Bool) -> Duration? {
        let start = ContinuousClock.now
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return ContinuousClock.now - start }
        }
        return nil
    }

    @Test func aBareHSETIsRoutableOnEveryProxyAndRoutesOutliveRedis() throws {
        let redis = try RedisServer()
        let backend = try BackendProcess(name: "shared")
        defer { backend.stop() }
        let proxies = [try ProxyProcess(redis: redis), try ProxyProcess(redis: redis)]
        defer { proxies.forEach { $0.stop() } }
        for proxy in proxies { #expect(timeUntil { proxy.status("/none/") == 503 } != nil, "a proxy did not start") }

        // Older tooling writes the hash directly: every proxy must see it, by push.
        try redis.cli("HSET", "prefix:legacy", ".*", backend.address)
        var latencies: [Duration] = []
        for proxy in proxies {
            let latency = try #require(timeUntil { proxy.status("/legacy/") == 200 })
            latencies.append(latency)
        }
        print("HSET to routable on both proxies: \(latencies) (after redis-cli returned)")
        #expect(latencies.allSatisfy { $0 < .milliseconds(500) })

        try redis.cli("HDEL", "prefix:legacy", ".*")
        for proxy in proxies { #expect(timeUntil { proxy.status("/legacy/") == 503 } != nil) }
        try redis.cli("HSET", "prefix:legacy", ".*", backend.address)
        for proxy in proxies { #expect(timeUntil { proxy.status("/legacy/") == 200 } != nil) }

        // Redis gone: the proxies keep serving what they knew, through and past a resync period.
        redis.kill()
        Thread.sleep(forTimeInterval: 3)
        for proxy in proxies { #expect(proxy.status("/legacy/") == 200) }
        // Back again, with a change made while they were cut off: the resync brings it.
        try redis.start()
        try redis.cli("HSET", "prefix:later", ".*", backend.address)
        for proxy in proxies { #expect(timeUntil(15) { proxy.status("/later/") == 200 } != nil) }
    }

    @Test func registrationsThroughTheAPILandInRedis() throws {
        let redis = try RedisServer()
        let server = try KilnServerProcess(extraArguments: ["--allow-http", "--routes", redis.url])
        defer { server.terminate() }
        let tool = uniqueToolName("r")
        #expect(try kiln("tools", "create", tool, "--data", server.dataDirectory).status == 0)
        let backend = try BackendProcess(name: "api", tool: tool)
        defer { backend.stop() }
        let added = try kiln("routes", "add", "--data", server.dataDirectory, "--tool", tool, ".*", backend.address)
        #expect(added.status == 0, "\(added)")
        #expect(try redis.cli("HGET", "prefix:\(tool)", ".*") == backend.address + "\n")
        #expect(timeUntil { (try? curl([server.httpURL + "/\(tool)/"]))?.status == 200 } != nil)
        let listed = try kiln("routes", "list", "--data", server.dataDirectory)
        #expect(listed.standardOutput.contains(tool))
        #expect(try kiln("tools", "delete", tool, "--data", server.dataDirectory).status == 0)
        #expect(try redis.cli("EXISTS", "prefix:\(tool)") == "0\n", "a deleted tool's routes stay in Redis")
    }

    /// Redis with ACL users, as the README sets it up: the server writes as its user, a proxy
    /// reads as its own with the password in a file; wrong credentials stop a start.
    @Test func theServerAndProxiesAuthenticateAsTheirACLUsers() throws {
        let proxyPassword = "edge-proxy-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let serverPassword = "edge-server-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let redis = try RedisServer(users: [
            "kiln-proxy on >\(proxyPassword) resetkeys %R~prefix:* resetchannels &__keyspace@0__:prefix:* -@all +scan +hgetall +psubscribe",
            "kiln-server on >\(serverPassword) resetkeys ~prefix:* resetchannels &__keyspace@0__:prefix:* -@all +scan +hgetall +psubscribe +hget +hset +hdel +hexists +hlen +eval",
        ])
        defer { redis.stop() }
        let server = try KilnServerProcess(
            extraArguments: ["--allow-http", "--routes", redis.url(user: "kiln-server", password: serverPassword)])
        defer { server.terminate() }
        let passwordFile = server.dataDirectory + "/../proxy-password"
        FileManager.default.createFile(atPath: passwordFile, contents: Data((proxyPassword + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let proxy = try ProxyProcess(
            routes: "redis://kiln-proxy@127.0.0.1:\(redis.port)", arguments: ["--routes-password-file", passwordFile])
        defer { proxy.stop() }
        let tool = uniqueToolName("edge")
        #expect(try kiln("tools", "create", tool, "--data", server.dataDirectory).status == 0)
        let backend = try BackendProcess(name: "acl", tool: tool)
        defer { backend.stop() }
        defer { _ = try? kiln("tools", "delete", tool, "--data", server.dataDirectory) }
        let added = try kiln("routes", "add", "--data", server.dataDirectory, "--tool", tool, ".*", backend.address)
        #expect(added.status == 0, "\(added)")
        #expect(timeUntil { proxy.status("/\(tool)/") == 200 } != nil, "routes reach the proxy: \(proxy.log)")
        #expect(timeUntil { (try? curl([server.httpURL + "/\(tool)/"]))?.status == 200 } != nil)
        for log in [server.log, proxy.log] {
            #expect(log.contains("tools must not be able to reach it"))
            #expect(!log.contains(proxyPassword) && !log.contains(serverPassword), "a password in a log")
        }
        #expect(proxy.log.contains("redis://kiln-proxy:***@127.0.0.1"))
        // The server's password is in its arguments, which local users can read: it is told.
        #expect(server.log.contains("the Redis password is on the command line"))
        #expect(!proxy.log.contains("the Redis password is on the command line"))

        // The proxy's user cannot forge a route, whatever reaches Redis with its password.
        let forged = try runCommand(
            "/usr/bin/redis-cli",
            ["-p", String(redis.port), "--user", "kiln-proxy", "--pass", proxyPassword, "--no-auth-warning", "HSET", "prefix:\(tool)", ".*", "127.0.0.1:1"])
        #expect(forged.standardOutput.contains("NOPERM"), "\(forged)")

        // Refused at start, clearly, and the password never printed.
        let wrong = try kiln(
            "proxy", "--routes", redis.url(user: "kiln-proxy", password: "not-" + proxyPassword), "--http", "127.0.0.1:0", "--https", "off",
            "--data", server.dataDirectory + "/../wrong-proxy")
        #expect(wrong.status == 1)
        #expect(wrong.standardError.contains("refused the credentials of user 'kiln-proxy'"), "\(wrong)")
        #expect(!wrong.standardError.contains(proxyPassword) && !wrong.standardOutput.contains(proxyPassword))
        let anonymous = try kiln(
            "proxy", "--routes", redis.url, "--http", "127.0.0.1:0", "--https", "off", "--data", server.dataDirectory + "/../wrong-proxy")
        #expect(anonymous.status == 1)
        #expect(anonymous.standardError.contains("requires credentials"), "\(anonymous)")
        // A password file others can read is refused before anything connects.
        chmod(passwordFile, 0o644)
        let readable = try kiln(
            "proxy", "--routes", "redis://kiln-proxy@127.0.0.1:\(redis.port)", "--routes-password-file", passwordFile,
            "--http", "127.0.0.1:0", "--https", "off", "--data", server.dataDirectory + "/../wrong-proxy")
        #expect(readable.status == 1)
        #expect(readable.standardError.contains("others may read or write it"), "\(readable)")
    }

    /// The Redis password file is read once and only when it is the operator's alone: a regular
    /// file of root (or the server's user) that others cannot read; never a FIFO or a device,
    /// which would block or never end.
    @Test func thePasswordFileMustBeTheOperatorsAlone() throws {
        let directory = try makeTemporaryDirectory(prefix: "kpw")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func start(_ file: String) throws -> CommandResult {
            try kiln(
                "proxy", "--routes", "redis://kiln-proxy@127.0.0.1:\(freeLoopbackPort())", "--routes-password-file", file,
                "--http", "127.0.0.1:0", "--https", "off", "--data", directory + "/proxy")
        }
        func write(_ name: String, _ contents: String, mode: Int) -> String {
            let path = directory + "/" + name
            FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: mode])
            return path
        }
        let fifo = directory + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let foreign = write("foreign", "secret\n", mode: 0o600)
        #expect(chown(foreign, 65534, 65534) == 0)
        let refusals = [
            (write("world", "secret\n", mode: 0o604), "others may read or write it"),
            (write("empty", "\n", mode: 0o600), "its first line is empty"),
            (fifo, "not a regular file"), ("/dev/zero", "not a regular file"), (foreign, "belongs to uid 65534"),
            (directory + "/missing", "cannot open it"),
        ]
        for (file, reason) in refusals {
            let result = try start(file)
            #expect(result.status == 1, "\(file): \(result)")
            #expect(result.standardError.contains("the password file \(file) is refused: ") && result.standardError.contains(reason), "\(result)")
        }
        // Group-readable is the operator's choice (root:kiln 0640); Redis not being there is not a refusal.
        let grouped = write("grouped", "secret\r\nignored\n", mode: 0o640)
        let proxy = try ProxyProcess(
            routes: "redis://kiln-proxy@127.0.0.1:\(freeLoopbackPort())", arguments: ["--routes-password-file", grouped])
        defer { proxy.stop() }
        #expect(timeUntil { proxy.status("/none/") == 503 } != nil, "the proxy serves while Redis is away: \(proxy.log)")
        #expect(proxy.log.contains("cannot reach Redis at start"))
        #expect(!proxy.log.contains("secret"))
    }
}

// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Kiln",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kiln", targets: ["kiln"]),
        // Installed beside `kiln`: the first program of every process of a tool's.
        .executable(name: "kiln-enter", targets: ["kiln-enter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // The few C library calls Swift's Glibc module leaves out.
        .target(name: "CKilnSystem"),
        // PCRE2 from the system (Debian's libpcre2-dev): route patterns, with JIT and match limits.
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // Who owns a TCP socket of this host: sock_diag netlink, /proc/net/tcp as the fallback.
        .target(name: "KilnSocketOwners", dependencies: [
            "CKilnSystem", "KilnCore", .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // Pure model: names, routes, tokens, errors. No I/O.
        .target(name: "KilnCore", dependencies: ["CPCRE2"]),
        // Users' files: service.template, service.manifest (later jobs.yaml), read with line numbers.
        .target(name: "KilnFormats", dependencies: [
            "KilnCore",
            .product(name: "Yams", package: "Yams"),
        ]),
        // Durable store: SQLite through GRDB.
        .target(name: "KilnStore", dependencies: [
            "KilnCore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A small RESP client on SwiftNIO, and the dynamicproxy route schema in Redis.
        .target(name: "KilnRedis", dependencies: [
            "KilnCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The front proxy (data plane): SwiftNIO channel handlers, shares only the core.
        .target(name: "KilnProxy", dependencies: [
            "KilnCore", "KilnChannels", "KilnSocketOwners",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: [
            // The hot path's handlers are confined to their event loop; dynamic exclusivity checks
            // on their properties cost a few percent per request for nothing.
            .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
        ]),
        // A byte tunnel between two channels with backpressure (websockets, job ports).
        .target(name: "KilnChannels", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // Mail to tools' maintainers: a small SMTP client on SwiftNIO, for a local relay.
        .target(name: "KilnMail", dependencies: [
            "KilnCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Files in tools' homes and the platform's own, reached so that nothing a tool plants
        // (a link, a FIFO, a device, another's file) redirects the server, which runs as root.
        .target(name: "KilnFiles", dependencies: ["KilnCore", "CKilnSystem"]),
        // Tool accounts on the host: Unix users, homes, token files.
        .target(name: "KilnAccounts", dependencies: [
            "KilnCore", "KilnFiles",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        // The build service: a tool's repository built (as the tool) into an image, a sealed
        // directory tree; the image store.
        .target(name: "KilnBuilds", dependencies: [
            "KilnCore", "KilnFiles", "KilnRunner", "KilnStore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Control-plane HTTP API.
        .target(name: "KilnAPI", dependencies: [
            "KilnCore", "KilnStore", "KilnAccounts", "KilnFormats", "KilnRunner", "KilnBuilds", "KilnFiles", "KilnSocketOwners",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // Processes that tools run: spawned as the tool, limited, probed, logged.
        .target(name: "KilnRunner", dependencies: [
            "KilnCore", "KilnChannels", "KilnFiles", "KilnSocketOwners",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        // The front page (`/` on the proxy): the directory of tools rendered as HTML from a template.
        .target(name: "KilnFrontPage", dependencies: ["KilnCore", .product(name: "Mustache", package: "swift-mustache")]),
        // Reconciliation: what runs is brought back to what was declared.
        .target(name: "KilnMonitor", dependencies: [
            "KilnCore", "KilnStore", "KilnRunner", "KilnFormats", "KilnFiles", "KilnBuilds",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The server's composition: `kiln serve` and `kiln proxy` as services a test can boot in process.
        .target(name: "KilnServer", dependencies: [
            "KilnCore", "KilnStore", "KilnAPI", "KilnAccounts", "KilnRunner", "KilnProxy", "KilnRedis", "KilnMonitor",
            "KilnMail", "CKilnSystem", "KilnFiles", "KilnFrontPage", "KilnBuilds",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        // Command-line interface: commands parse arguments and call the server or the API.
        .target(name: "KilnCLI", dependencies: [
            "KilnServer", "KilnCore", "KilnStore", "KilnAPI", "KilnAccounts", "KilnRunner", "KilnProxy", "KilnRedis", "KilnMonitor",
            "KilnFormats", "KilnMail", "CKilnSystem", "KilnFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
        ]),
        .executableTarget(name: "kiln", dependencies: ["KilnCLI"]),
        // bench/route-match.sh: nanoseconds per route-pattern match (release build).
        .executableTarget(name: "KilnRouteBench", dependencies: ["KilnCore"]),
        // Puts a tool's process in its control groups and limits, as the tool, in its folder
        // (C, static: each of a thousand jobs a minute pays its start).
        .executableTarget(name: "kiln-enter", linkerSettings: [.unsafeFlags(["-static-executable"])]),
        // Test support: temporary data dirs, free ports, driving the real binary.
        .target(name: "KilnTesting", dependencies: [
            "KilnRunner", "KilnCore",
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        .testTarget(name: "KilnCoreTests", dependencies: ["KilnCore", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "KilnSocketOwnersTests", dependencies: [
            "KilnSocketOwners", "KilnCore", "KilnTesting",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "KilnStoreTests", dependencies: ["KilnStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "KilnFormatsTests", dependencies: [
            "KilnFormats", "KilnTesting", .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "KilnFilesTests", dependencies: ["KilnFiles", "KilnCore"]),
        .testTarget(name: "KilnBuildsTests", dependencies: ["KilnBuilds", "KilnFiles", "KilnCore", "KilnStore", "KilnTesting"]),
        .testTarget(name: "KilnServerTests", dependencies: [
            "KilnServer", "KilnCore", "KilnAPI", "KilnProxy", "KilnTesting", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "KilnRunnerTests", dependencies: [
            "KilnRunner", "KilnCore", "KilnFiles", "KilnTesting", .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        .testTarget(name: "KilnMonitorTests", dependencies: [
            "KilnMonitor", "KilnStore", "KilnRunner", "KilnCore", "KilnTesting",
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .testTarget(name: "KilnAPITests", dependencies: [
            "KilnAPI", "KilnStore", "KilnFiles", "KilnTesting",
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "KilnRedisTests", dependencies: ["KilnRedis", "KilnTesting"]),
        .testTarget(name: "KilnFrontPageTests", dependencies: ["KilnFrontPage", "KilnCore"]),
        .testTarget(name: "KilnMailTests", dependencies: [
            "KilnMail", "KilnTesting",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "KilnProxyTests", dependencies: [
            "KilnProxy",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "KilnEndToEndTests", dependencies: [
            "KilnTesting", "kiln", .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], exclude: ["Fixtures"]),
    ]
)

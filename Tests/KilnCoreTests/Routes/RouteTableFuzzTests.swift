import Foundation
import KilnCore
import PropertyBased
import Testing

/// Random tables of random patterns (valid, invalid, backtracking) and random hosts and paths
/// through `RouteTable.resolve`: it never traps, answers in bounded time, and sends a request
/// only to the tool its host names, else the tool its path names, else the fallback tool; to a
/// backend registered for that tool; and never to a tool the host did not name when it named one.
@Suite struct RouteTableFuzzTests {
    static let tools = ["a", "b", "tool", "admin", "x-y", "é", "A"]
    static let patterns = [
        ".*", "^/$", "^/api", "^/api/", "/x$", "^/(a|b)+$", "(a+)+$", "^/[", "(", "^/caf\u{E9}", "\\d+", "^/%2e%2e",
        "^(?i)/API", "^$", "a{1,100000}", "(?=x)", "\\", "^/\u{0}", "(.*)*z", "^/.+/.+/",
    ]
    static let hostForms = [
        "{t}.kiln.test", "{t}.KILN.TEST", "{t}.kiln.test:8443", "{t}.kiln.test.", "{t}.kiln.test.:1", "kiln.test", "x.{t}.kiln.test",
        "{t}kiln.test", "{t}.kiln.test.evil", "[::1]:443", "", "127.0.0.1", "{t}.kiln.test:", ".kiln.test", "{t}..kiln.test",
        "\u{0}.kiln.test", "{t}.kiln.tes", "{t}.kiln.tеst",
    ]
    static let pathForms = [
        "/", "/{t}", "/{t}/", "/{t}/api/x", "/{t}?q=/b/", "//{t}/", "/{t}%2F..", "", "*", "http://b/{t}/", "/{t}#/x", "/{t}/../b/",
        "?", "/{t}/caf\u{E9}", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "/api",
    ]

    struct Input: Sendable {
        var routes: [Route]
        var host: String?
        var path: String
        var pathRouting: PathRouting
    }

    static func pick<T>(_ values: [T], _ rng: inout any SeededRandomNumberGenerator) -> T {
        values[Int.random(in: 0..<values.count, using: &rng)]
    }

    static let inputs = Generator<Input, Shrink.None<Input>> { rng in
        var routes: [Route] = []
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            let tool = pick(tools, &rng)
            let port = 1000 + Int.random(in: 0..<4, using: &rng) + 10 * (tools.firstIndex(of: tool) ?? 0)
            routes.append(Route(tool: tool, pattern: pick(patterns, &rng), backend: HostPort(host: "127.0.0.1", port: port)))
        }
        let hostTool = pick(tools + ["nosuch"], &rng)
        let pathTool = pick(tools + ["nosuch"], &rng)
        let host = Int.random(in: 0..<4, using: &rng) == 0 ? nil : pick(hostForms, &rng).replacingOccurrences(of: "{t}", with: hostTool)
        let path = pick(pathForms, &rng).replacingOccurrences(of: "{t}", with: pathTool)
        return Input(routes: routes, host: host, path: path, pathRouting: Bool.random(using: &rng) ? .serve : .redirect)
    }

    /// The tool a host names, read plainly: `LABEL.kiln.test[.][:port]`, lower-cased.
    static func toolNamed(byHost host: String) -> String? {
        var name = Substring(host)
        if !name.hasSuffix("]"), let colon = name.lastIndex(of: ":") { name = name[..<colon] }
        if name.hasSuffix(".") { name = name.dropLast() }
        let suffix = ".kiln.test"
        guard name.lowercased().hasSuffix(suffix), name.utf8.count > suffix.utf8.count else { return nil }
        let label = name.utf8.dropLast(suffix.utf8.count)
        guard !label.contains(UInt8(ascii: ".")) else { return nil }
        return Substring(label).lowercased()
    }

    static func toolNamed(byPath path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        let segment = path.dropFirst().prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return segment.isEmpty ? nil : String(segment)
    }

    @Test func aRequestGoesOnlyToTheToolItsHostOrPathNamesOrTheFallback() async {
        var executions = 0
        var routed = 0
        var slowest = Duration.zero
        let clock = ContinuousClock()
        await propertyCheck(count: 20_000, input: Self.inputs) { input in
            executions += 1
            let table = RouteTable(routes: input.routes)
            let start = clock.now
            let resolution = table.resolve(
                host: input.host.map { Substring($0) }, path: Substring(input.path), domain: "kiln.test", pathRouting: input.pathRouting)
            slowest = max(slowest, clock.now - start)
            let hostTool = input.host.flatMap(Self.toolNamed(byHost:))
            let pathTool = Self.toolNamed(byPath: input.path)
            let label = "host \(input.host ?? "none") path \(input.path) \(input.pathRouting) → \(resolution)"
            switch resolution {
            case .backend(let group, let tool):
                routed += 1
                let allowed = hostTool.map { [$0, RouteTable.fallbackTool] } ?? [pathTool, RouteTable.fallbackTool].compactMap { $0 }
                #expect(allowed.contains(tool), "\(label)")
                let registered = Set(input.routes.filter { $0.tool == tool }.map(\.backend))
                #expect(group.backends.allSatisfy(registered.contains), "\(label)")
                if tool == pathTool, tool != RouteTable.fallbackTool, hostTool == nil { #expect(input.pathRouting == .serve, "\(label)") }
            case .toolOrigin(let tool, _):
                #expect(hostTool == nil && tool == pathTool && input.pathRouting == .redirect, "\(label)")
            case .toolNotRunning(let tool):
                #expect(tool == (hostTool ?? pathTool), "\(label)")
            case .frontPage:
                // Only the root of a host that names no tool, whatever tools' routes say.
                #expect(hostTool == nil && input.path.prefix { $0 != "?" && $0 != "#" } == "/", "\(label)")
            case .notFound:
                #expect(hostTool == nil && pathTool == nil, "\(label)")
            }
        }
        print("fuzz: route resolution: \(executions) executions, \(routed) routed to a backend, slowest \(slowest)")
        #expect(executions == 20_000)
        #expect(slowest < .milliseconds(500), "a resolution took \(slowest)")
    }
}

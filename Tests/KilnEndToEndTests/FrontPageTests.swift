import Foundation
import KilnTesting
import Testing

/// `/` on the proxy through the real binary: the page of tools a newcomer sees first, over plain
/// HTTP, HTTPS (HTTP/2 and HTTP/1.1) and HTTP/1.0, from a proxy of its own and from one inside
/// `kiln serve`; what it says while the control plane is down; and what a browser shows.
@Suite(.serialized) struct FrontPageTests {
    /// A platform with two tools: `served`, whose static webservice runs, and `idle`, which has none.
    final class Fixture: Sendable {
        let server: KilnServerProcess
        let served = uniqueToolName("fs")
        let idle = uniqueToolName("fi")

        init(proxyProcess: String) throws {
            server = try KilnServerProcess(extraArguments: ["--allow-http", "--proxy-process", proxyProcess])
            let data = server.dataDirectory
            for (tool, maintainers) in [(served, ["alice", "bob"]), (idle, ["carol"])] {
                let created = try kiln(arguments: ["tools", "create", tool, "--data", data] + maintainers.flatMap { ["--maintainer", $0] })
                guard created.status == 0 else { throw TestFailure("tools create: \(created)") }
            }
            try writeAsTool("<h1>served here</h1>\n", to: "public_html/index.html", inHome: data + "/tools/" + served)
            let started = try kiln("webservice", "static", "start", "--tool", served, "--data", data)
            guard started.status == 0 else { throw TestFailure("webservice start: \(started)") }
            let page = try waitForStatus(200, server.httpURL + "/\(served)/")
            guard page.body.contains("served here") else { throw TestFailure("the tool is not served: \(page)") }
        }

        /// `/` once it lists `served` as running (the page is kept for a moment).
        func frontPage(_ arguments: [String] = [], base: String? = nil) throws -> CurlResponse {
            let deadline = Date().addingTimeInterval(15)
            var last = try curl(["-i"] + arguments + [(base ?? server.httpURL) + "/"])
            while !last.body.contains(#"<span class="state up">running</span>"#) && Date() < deadline {
                usleep(200_000)
                last = try curl(["-i"] + arguments + [(base ?? server.httpURL) + "/"])
            }
            return last
        }

        func stop() {
            _ = try? kiln("webservice", "stop", "--tool", served, "--data", server.dataDirectory)
            _ = server.terminate()
        }
    }

    /// What the page must say of the two tools, as its HTML has it.
    static func expectListing(_ html: String, _ fixture: Fixture, _ label: String) {
        #expect(html.contains("<p>2 tools, 1 webservice running.</p>"), "\(label): \(html)")
        #expect(html.contains(#"<th scope="row" role="rowheader">\#(fixture.served)</th>"#), "\(label)")
        #expect(html.contains("data-label=\"Maintainers\">alice, bob</td>"), "\(label)")
        #expect(html.contains("data-label=\"Webservice\">static</td>"), "\(label)")
        #expect(html.contains(#"<a href="/\#(fixture.served)/">/\#(fixture.served)/</a>"#), "\(label)")
        #expect(html.contains(#"<th scope="row" role="rowheader">\#(fixture.idle)</th>"#), "\(label)")
        #expect(html.contains("data-label=\"Maintainers\">carol</td>"), "\(label)")
        #expect(html.contains(#"<span class="state off">stopped</span>"#), "\(label)")
        #expect(html.contains("not served"), "\(label)")
    }

    @Test(arguments: ["process", "in-process"])
    func theFrontPageListsTheToolsAndTheirWebservices(proxyProcess: String) async throws {
        let fixture = try await onOwnThread { try Fixture(proxyProcess: proxyProcess) }
        defer { fixture.stop() }
        let plain = try await onOwnThread { try fixture.frontPage() }
        #expect(plain.status == 200, "\(plain)")
        #expect(plain.httpVersion == "1.1")
        let headers = plain.headers.lowercased()
        #expect(headers.contains("content-type: text/html; charset=utf-8"), "\(plain.headers)")
        #expect(headers.contains("content-security-policy: default-src 'none'"), "\(plain.headers)")
        Self.expectListing(plain.body, fixture, "plain HTTP/1.1")

        let http2 = try await onOwnThread { try fixture.frontPage(base: fixture.server.httpsURL) }
        #expect(http2.status == 200)
        #expect(http2.httpVersion == "2")
        Self.expectListing(http2.body, fixture, "HTTPS, HTTP/2")
        let tls11 = try await onOwnThread { try fixture.frontPage(["--http1.1"], base: fixture.server.httpsURL) }
        #expect(tls11.status == 200 && tls11.httpVersion == "1.1")
        Self.expectListing(tls11.body, fixture, "HTTPS, HTTP/1.1")
        let http10 = try await onOwnThread { try fixture.frontPage(["--http1.0"]) }
        #expect(http10.status == 200)
        Self.expectListing(http10.body, fixture, "HTTP/1.0")

        // curl -I writes the head where a body would go: there is nothing after it.
        let head = try await onOwnThread { try curl(["-I", fixture.server.httpURL + "/"]) }
        #expect(head.status == 200)
        #expect(head.body.lowercased().contains("content-type: text/html"))
        #expect(head.body.hasSuffix("\r\n\r\n") && !head.body.contains("<html"), "\(head.body)")
        // The page reads; it takes nothing.
        let post = try await onOwnThread { try curl(["-X", "POST", "-d", "x=1", fixture.server.httpURL + "/"]) }
        #expect(post.status == 404)
        // The directory the proxy renders is the control plane's public one: no token needed.
        let directory = try await onOwnThread { try curl([fixture.server.apiURL + "/v1/directory"]) }
        #expect(directory.status == 200)
        #expect(directory.body.contains(#""name":"\#(fixture.served)""#), "\(directory.body)")
    }

    /// With the control plane down, `/` says so in a short 503 while tools are still served; once
    /// it is back, so is the page.
    @Test func aControlPlaneDownLeavesTheToolsServedAndSaysSoAtTheRoot() async throws {
        let fixture = try await onOwnThread { try Fixture(proxyProcess: "process") }
        defer { fixture.stop() }
        let server = fixture.server
        #expect(try await onOwnThread { try fixture.frontPage() }.status == 200)
        try await onOwnThread { server.kill9() }
        var down = try await onOwnThread { try curl([server.httpURL + "/"]) }
        for _ in 0..<50 where down.status != 503 {
            try await Task.sleep(for: .milliseconds(200))
            down = try await onOwnThread { try curl([server.httpURL + "/"]) }
        }
        #expect(down.status == 503, "\(down)")
        #expect(down.body.contains("List of tools unavailable"))
        #expect(down.body.contains("Tools are still served"))
        #expect(down.headers.lowercased().contains("retry-after: 5"))
        let tool = try await onOwnThread { try curl([server.httpURL + "/\(fixture.served)/"]) }
        #expect(tool.status == 200 && tool.body.contains("served here"), "\(tool)")

        try await onOwnThread { try server.start() }
        let back = try await onOwnThread { try fixture.frontPage() }
        #expect(back.status == 200)
        Self.expectListing(back.body, fixture, "after the restart")
    }

    /// A tool cannot take `/`: not by routing everything through the fallback tool.
    @Test func noToolTakesTheRoot() async throws {
        let fixture = try await onOwnThread { try Fixture(proxyProcess: "process") }
        defer { fixture.stop() }
        let data = fixture.server.dataDirectory
        let backend = try await onOwnThread { try BackendProcess(name: "landing", tool: fixture.idle) }
        defer { backend.stop() }
        let routed = try await onOwnThread { () throws -> Bool in
            try kiln("tools", "create", "admin", "--data", data).status == 0
                && kiln("routes", "add", "--data", data, "--tool", "admin", ".*", backend.address).status == 0
                && kiln("routes", "add", "--data", data, "--tool", "admin", "^/$", backend.address).status == 0
        }
        #expect(routed)
        let landing = try await onOwnThread { try waitForStatus(200, fixture.server.httpURL + "/elsewhere") }
        #expect(landing.body.contains(#""backend": "landing""#), "\(landing)")
        let root = try await onOwnThread { try curl([fixture.server.httpURL + "/"]) }
        #expect(root.status == 200)
        #expect(root.body.contains("<h1>Tools on localhost</h1>"), "\(root.body)")
        #expect(!root.body.contains("landing"))
    }

    /// What a browser shows: Chromium without a screen takes a picture of the page (kept under
    /// .build/test-artifacts) and prints the page's DOM as it sees it.
    @Test(.enabled(if: HeadlessChromium() != nil, "chromium is not installed (scripts/install-test-deps installs Debian's)"))
    func aBrowserShowsTheListing() async throws {
        let chromium = try #require(HeadlessChromium())
        let fixture = try await onOwnThread { try Fixture(proxyProcess: "process") }
        defer { fixture.stop() }
        Self.expectListing(try await onOwnThread { try fixture.frontPage() }.body, fixture, "curl")
        let url = fixture.server.httpURL + "/"
        let artifacts = Self.artifactsDirectory
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        for (name, width, height) in [("front-page", 1024, 768), ("front-page-narrow", 360, 740)] {
            let picture = artifacts + "/\(name).png"
            try? FileManager.default.removeItem(atPath: picture)
            let shot = try await chromium.run(["--screenshot=\(picture)", "--window-size=\(width),\(height)", "--hide-scrollbars"], url: url)
            #expect(shot.status == 0, "\(shot)")
            let png = try #require(FileManager.default.contents(atPath: picture), "no screenshot: \(shot)")
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            // IHDR: the picture is the window's size, and more than a blank page.
            #expect(Self.bigEndian(png, at: 16) == width && Self.bigEndian(png, at: 20) == height)
            #expect(png.count > 8_000, "\(png.count) bytes")
            print("front page screenshot (\(width)×\(height)): \(picture)")
        }
        let dom = try await chromium.run(["--dump-dom"], url: url)
        #expect(dom.status == 0, "\(dom)")
        try dom.standardOutput.write(toFile: artifacts + "/front-page.html", atomically: true, encoding: .utf8)
        print("front page as the browser built it: \(artifacts)/front-page.html")
        Self.expectListing(dom.standardOutput, fixture, "the browser's DOM")
        #expect(dom.standardOutput.contains("<title>Tools on localhost · Kiln</title>"))
    }

    static var artifactsDirectory: String {
        if let explicit = ProcessInfo.processInfo.environment["KILN_TEST_ARTIFACTS"] { return explicit }
        // The package's root, three folders above this file.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/test-artifacts").path
    }

    static func bigEndian(_ data: Data, at offset: Int) -> Int {
        guard data.count >= offset + 4 else { return -1 }
        return data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
    }
}

import Foundation
import KilnTesting
import Testing

/// Each family of webservice types started the Toolforge way, from a tiny app of its kind, as the
/// tool, through the real binary and the proxy; skipped, with the reason, where the host lacks
/// the runtime.
@Suite(.serialized) struct WebserviceTypeFamilyTests {
    typealias Fixture = WebserviceTests.Fixture

    /// Answers every request with `{"type": NAME}`: the family's own HTTP server, on $PORT.
    static let javaServer = """
        import com.sun.net.httpserver.HttpServer;
        import java.net.InetSocketAddress;

        public class Server {
            public static void main(String[] arguments) throws Exception {
                int port = Integer.parseInt(System.getenv("PORT"));
                HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
                server.createContext("/", exchange -> {
                    byte[] body = ("{\\"type\\":\\"jdk\\",\\"home\\":\\"" + System.getenv("JAVA_HOME") + "\\"}").getBytes();
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                    exchange.close();
                });
                server.start();
            }
        }
        """

    static let goServer = """
        package main

        import (
            "fmt"
            "net/http"
            "os"
        )

        func main() {
            http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"type":"golang"}`) })
            http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
        }
        """

    static let rubyServer = """
        require "socket"
        server = TCPServer.new("127.0.0.1", Integer(ENV.fetch("PORT")))
        loop do
          client = server.accept
          while (line = client.gets) && line != "\\r\\n"; end
          body = '{"type":"ruby"}'
          client.write("HTTP/1.1 200 OK\\r\\nContent-Length: #{body.bytesize}\\r\\nConnection: close\\r\\n\\r\\n#{body}")
          client.close
        end
        """

    static let tclServer = """
        proc answer {channel address port} {
            fconfigure $channel -translation crlf
            while {[gets $channel line] > 0} {}
            set body {{"type":"tcl"}}
            puts -nonewline $channel "HTTP/1.1 200 OK\\nContent-Length: [string length $body]\\nConnection: close\\n\\n"
            fconfigure $channel -translation binary
            puts -nonewline $channel $body
            close $channel
        }
        socket -server answer -myaddr 127.0.0.1 $env(PORT)
        vwait forever
        """

    /// Perl the way Toolforge serves it: a CGI script in public_html/ by lighttpd.
    static let perlScript = """
        #!/usr/bin/perl
        print "Content-Type: application/json\\r\\n\\r\\n";
        print '{"type":"perl","script":"' . $ENV{SCRIPT_NAME} . '"}';
        """

    /// Starts `arguments`, checks the page through the proxy, then stops it.
    func served(_ fixture: Fixture, _ arguments: [String], expect expected: String) throws -> CommandResult {
        // The platform's options go before `--`: what follows it is the server's command.
        let split = arguments.firstIndex(of: "--") ?? arguments.endIndex
        let started = try kiln(
            arguments: ["webservice"] + arguments[..<split] + ["--tool", fixture.tool, "--data", fixture.data] + arguments[split...])
        #expect(started.status == 0, "\(arguments): \(started)\n\(fixture.server.log.suffix(2000))")
        let page = try fixture.get("/")
        #expect(page.status == 200 && page.body.contains(expected), "\(arguments): \(page.status) \(page.body)")
        #expect(try fixture.webservice("stop").status == 0)
        return started
    }

    func skipUnless(_ program: String) -> Bool {
        guard ["/usr/bin/", "/usr/local/bin/", "/bin/"].contains(where: { FileManager.default.isExecutableFile(atPath: $0 + program) }) else {
            print("skipped: this host has no \(program) (scripts/install-test-deps installs it)")
            return false
        }
        return true
    }

    @Test func jdkRunsTheToolsCommandWithTheHostsJava() throws {
        guard skipUnless("java"), skipUnless("javac") else { return }
        let fixture = try Fixture("wj")
        defer { fixture.stop() }
        try fixture.write("Server.java", Self.javaServer)
        _ = try served(fixture, ["jdk17", "start", "--", "java", "Server.java"], expect: #""type":"jdk","home":"/"#)
        // Without a command a jdk webservice says what it needs.
        let bare = try fixture.webservice("jdk17", "start")
        #expect(bare.status == 1 && bare.messages.contains("give its command as extra arguments"), "\(bare)")
    }

    @Test func golangRunsTheToolsBuiltBinaryUnderARetiredName() throws {
        guard skipUnless("go") else { return }
        let fixture = try Fixture("wg")
        defer { fixture.stop() }
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-go-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: source) }
        try Self.goServer.write(to: source.appendingPathComponent("main.go"), atomically: true, encoding: .utf8)
        let binary = fixture.home + "/server"
        let built = try runCommand(
            "/usr/bin/go", ["build", "-o", binary, source.appendingPathComponent("main.go").path],
            environment: ["GOCACHE": source.path + "/cache", "HOME": source.path, "GO111MODULE": "off"], timeout: .seconds(300))
        #expect(built.status == 0, "\(built)")
        var info = stat()
        stat(fixture.home, &info)
        chown(binary, info.st_uid, info.st_gid)
        let started = try served(fixture, ["golang111", "start", "--", "./server"], expect: #""type":"golang""#)
        #expect(started.messages.contains("WARNING: webservice type 'golang111' is retired"), "\(started)")
    }

    @Test func rubyAndTclRunTheToolsServer() throws {
        let fixture = try Fixture("wr")
        defer { fixture.stop() }
        if skipUnless("ruby") {
            try fixture.write("server.rb", Self.rubyServer)
            _ = try served(fixture, ["ruby3.1", "start", "--", "ruby", "server.rb"], expect: #""type":"ruby""#)
        }
        if skipUnless("tclsh") {
            try fixture.write("server.tcl", Self.tclServer)
            _ = try served(fixture, ["tcl8.6", "start", "--", "tclsh", "server.tcl"], expect: #""type":"tcl""#)
        }
    }

    @Test func perlWithoutACommandServesCGIScriptsFromPublicHTML() throws {
        guard skipUnless("perl") else { return }
        let fixture = try Fixture("wp")
        defer { fixture.stop() }
        try fixture.write("public_html/index.pl", Self.perlScript)
        _ = try served(fixture, ["perl5.36", "start"], expect: #""type":"perl""#)
        // The grid's lighttpd-plain is the same server, named as grid-era templates name it.
        try fixture.write("service.template", "type: lighttpd-plain\nrelease: buster\nbackend: gridengine\n")
        let started = try served(fixture, ["start"], expect: #""type":"perl""#)
        #expect(started.messages.contains("retired"), "\(started)")
        #expect(!started.messages.contains("unknown key"), "\(started)")
    }

    @Test func templatesOfToolforgeAreReadUnchanged() throws {
        let fixture = try Fixture("wt")
        defer { fixture.stop() }
        try fixture.write("www/python/src/app.py", WebserviceTests.flaskApp)
        // A template as Toolforge's users write them: a retired type, keys of its own.
        try fixture.write(
            "service.template",
            "backend: kubernetes\ntype: python3.9\ncanonical: true\nmount: all\ncpu: 500m\nmem: 1Gi\nreplicas: 1\n")
        let started = try served(fixture, ["start"], expect: #""type":"python""#)
        #expect(started.messages.contains("WARNING: webservice type 'python3.9' is retired"), "\(started)")
        #expect(!started.messages.contains("unknown key"), "\(started)")
        // --template FILE instead of service.template; -m, -r, --backend as Toolforge's.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-template-\(UUID().uuidString).yaml").path
        try "type: python3.11\nextra_args: []\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try fixture.webservice("start", "--template", file, "-m", "768Mi", "-r", "2", "-c", "0.5", "--backend", "kubernetes")
        #expect(fromFile.status == 0, "\(fromFile)")
        let status = try fixture.status()
        #expect(status["type"] as? String == "python3.11" && status["memory"] as? String == "768Mi", "\(status)")
        #expect((status["replicas"] as? [[String: Any]])?.count == 2)
        #expect(try fixture.webservice("stop").status == 0)
        // buildservice with an image the tool has not built (another tool's name, here) is refused, saying why.
        try fixture.write("service.template", "type: buildservice\nbuildservice-image: tool-x/tool-x:latest\n")
        let buildservice = try fixture.webservice("start")
        #expect(buildservice.status == 1, "\(buildservice)")
        #expect(buildservice.messages.contains("unknown image 'tool-x/tool-x:latest'"), "\(buildservice)")
        // A grid-era type whose server this host lacks says which package brings it.
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/uwsgi") {
            try FileManager.default.removeItem(atPath: fixture.home + "/service.template")
            try fixture.write("uwsgi.ini", "[uwsgi]\n")
            let uwsgi = try fixture.webservice("uwsgi-plain", "start")
            #expect(uwsgi.status != 0 && uwsgi.messages.contains("uwsgi-core"), "\(uwsgi)")
        }
    }

    @Test func typesListEveryNameWithTheHostsRuntime() throws {
        let fixture = try Fixture("wl")
        defer { fixture.stop() }
        let types = try kiln("webservice", "types", "--data", fixture.data)
        #expect(types.status == 0, "\(types)")
        // The cells of each row of tabulate's `pretty` table, by the row's first cell.
        var rows: [String: [String]] = [:]
        for line in types.standardOutput.split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if let name = cells.first { rows[name] = cells }
        }
        for name in ["python3.7", "python3.13", "php7.3", "php8.4", "node10", "node22", "jdk8", "jdk21", "golang111", "ruby2.7", "perl5.32", "tcl8.6", "bookworm", "lighttpd", "lighttpd-plain", "uwsgi-python", "uwsgi-plain", "generic", "buildservice"] {
            #expect(rows[name] != nil, "\(name) missing from:\n\(types.standardOutput)")
        }
        #expect(rows["python3.7"]?[1] == "retired" && rows["python3.11"]?[1] == "current")
        #expect(rows["buildservice"]?[2] == "not available on this host")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/java") {
            let jdk = rows["jdk17"]?[2] ?? ""
            #expect(jdk.contains("/java") && jdk.contains("version"), "\(jdk)")
        }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/uwsgi") {
            #expect(rows["uwsgi-plain"]?[2] == "not available on this host (no uwsgi)", "\(rows["uwsgi-plain"] ?? [])")
        }
    }

    @Test func shellRunsAsTheToolInItsHomeWithTheTypesRuntime() throws {
        guard skipUnless("java") else { return }
        let fixture = try Fixture("ws")
        defer { fixture.stop() }
        let created = try kiln("envvars", "create", "SHELL_SECRET", "s3cret", "--tool", fixture.tool, "--data", fixture.data)
        #expect(created.status == 0, "\(created)")
        let shell = try kiln(
            arguments: ["webservice", "jdk17", "shell", "--tool", fixture.tool, "--data", fixture.data],
            input: "pwd; id -u; echo \"java=$JAVA_HOME secret=$SHELL_SECRET tool=$TOOL_NAME\"; command -v java\n")
        #expect(shell.status == 0, "\(shell)")
        let lines = shell.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == fixture.home, "\(shell)")
        if geteuid() == 0 {
            var info = stat()
            stat(fixture.home, &info)
            #expect(lines.dropFirst().first == String(info.st_uid), "\(shell)")
        }
        #expect(lines.contains { $0.hasPrefix("java=/usr/lib/jvm/") && $0.hasSuffix("secret=s3cret tool=\(fixture.tool)") }, "\(shell)")
    }

    @Test func aHomeMovedInWithToolforgesManifestHasItsWebserviceStarted() throws {
        let fixture = try Fixture("wm")
        defer { fixture.stop() }
        // The operator copies a Toolforge home into place (as root), then creates the account.
        let tool = uniqueToolName("mv")
        let home = fixture.data + "/tools/" + tool
        try FileManager.default.createDirectory(atPath: home + "/public_html", withIntermediateDirectories: true)
        try "<h1>moved in</h1>\n".write(toFile: home + "/public_html/index.html", atomically: true, encoding: .utf8)
        try """
            # This file is used by Toolforge infrastructure and should not be edited manually
            backend: kubernetes
            canonical: false
            version: 4
            web: static

            """.write(toFile: home + "/service.manifest", atomically: true, encoding: .utf8)
        let created = try kiln("tools", "create", tool, "--data", fixture.data)
        #expect(created.status == 0, "\(created)")
        #expect(created.standardOutput.contains("Webservice: started the static webservice its service.manifest declares"), "\(created)")
        let page = try curl([fixture.server.httpURL + "/" + tool + "/"])
        #expect(page.status == 200 && page.body.contains("moved in"), "\(page.status) \(page.body)")
        if geteuid() == 0 {
            var info = stat()
            stat(home + "/public_html/index.html", &info)
            #expect(info.st_uid != 0, "the moved-in files are the tool's")
        }
        _ = try kiln("webservice", "stop", "--tool", tool, "--data", fixture.data)
    }
}

/// A tool's server for health-check tests, run by python3 in the tool's home: on $PORT, it
/// answers 503 until a file `ready` exists, then 200; while a file `hang` exists it answers
/// nothing (a stuck process, as liveness probes must catch). Each start appends its pid to
/// `stuck.pids`.
public enum StuckHealthServer {
    public static let pidsFile = "stuck.pids"

    public static let script = """
        import http.server, os, time
        with open("stuck.pids", "a") as pids:
            pids.write(f"{os.getpid()}\\n")
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                while os.path.exists("hang"):
                    time.sleep(0.02)
                self.send_response(200 if os.path.exists("ready") else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *args):
                pass
        http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
        """
}

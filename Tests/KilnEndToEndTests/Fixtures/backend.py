#!/usr/bin/env python3
"""A small real backend for the proxy's end-to-end tests (standard library only).

GET  /any/path            JSON: the path, method and headers as received, and the backend's name
GET  .../slow?s=N         waits N seconds, then answers
GET  .../big?n=BYTES      streams BYTES bytes (chunked), in 64 KiB pieces
POST .../upload           reads the body as it comes, answers its length and SHA-256
GET  .../ws               websocket echo (text and binary frames)
GET  .../hangup           closes the connection without answering
GET  .../untilclose       a body delimited by closing the connection (no length, not chunked)
GET  .../early            103 Early Hints, then the JSON answer
GET  .../stall?s=N        10 bytes announced, 5 sent, then N seconds of silence before the rest
GET  .../drip?n=N&every=S N chunks of one byte, one every S seconds
"""
import base64, hashlib, json, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

NAME = sys.argv[2] if len(sys.argv) > 2 else "backend"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def info(self):
        return json.dumps({
            "backend": NAME, "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
        })

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path.endswith("/slow"):
            time.sleep(float(query.get("s", ["1"])[0]))
            return self.reply(200, self.info())
        if url.path.endswith("/big"):
            remaining = int(query.get("n", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = b"x" * 65536
            while remaining > 0:
                part = piece[: min(remaining, len(piece))]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                remaining -= len(part)
            self.wfile.write(b"0\r\n\r\n")
            return
        if url.path.endswith("/hangup"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if url.path.endswith("/untilclose"):
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"y" * 100000)
            return
        if url.path.endswith("/stall"):
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"12345")
            self.wfile.flush()
            time.sleep(float(query.get("s", ["1"])[0]))
            self.wfile.write(b"67890")
            return
        if url.path.endswith("/drip"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(int(query.get("n", ["1"])[0])):
                self.wfile.write(b"1\r\nd\r\n")
                self.wfile.flush()
                time.sleep(float(query.get("every", ["1"])[0]))
            self.wfile.write(b"0\r\n\r\n")
            return
        if url.path.endswith("/early"):
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            return self.reply(200, self.info())
        if url.path.endswith("/ws") and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        self.reply(200, self.info())

    def do_POST(self):
        digest = hashlib.sha256()
        length = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                remaining = size
                while remaining:
                    data = self.rfile.read(min(remaining, 1 << 20))
                    digest.update(data)
                    remaining -= len(data)
                length += size
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining:
                data = self.rfile.read(min(remaining, 1 << 20))
                if not data:
                    break
                digest.update(data)
                length += len(data)
                remaining -= len(data)
        self.reply(200, json.dumps({"backend": NAME, "length": length, "sha256": digest.hexdigest(), "path": self.path}))

    do_PUT = do_POST

    def websocket(self):
        key = self.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            header = self.rfile.read(2)
            if len(header) < 2:
                return
            opcode = header[0] & 0x0F
            length = header[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if header[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if opcode == 8:
                self.wfile.write(b"\x88\x00")
                return
            frame = bytes([0x80 | opcode])
            if len(payload) < 126:
                frame += bytes([len(payload)])
            elif len(payload) < 65536:
                frame += bytes([126]) + len(payload).to_bytes(2, "big")
            else:
                frame += bytes([127]) + len(payload).to_bytes(8, "big")
            self.wfile.write(frame + payload)
            self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()

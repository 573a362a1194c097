#!/usr/bin/env python3
"""Websocket client for the proxy's tests: handshake through PORT/PATH, echo two messages (a short
one and one over 64 KiB), print OK or what went wrong."""
import base64, os, socket, sys

port, path = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: kiln-test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
response = b""
while b"\r\n\r\n" not in response:
    response += s.recv(4096)
head, rest = response.split(b"\r\n\r\n", 1)
if not head.startswith(b"HTTP/1.1 101"):
    print("no upgrade:", head.split(b"\r\n")[0])
    sys.exit(1)
for message in [b"hello", os.urandom(70000)]:
    mask = os.urandom(4)
    n = len(message)
    if n < 126:
        header = bytes([0x82, 0x80 | n])
    elif n < 65536:
        header = bytes([0x82, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x82, 0x80 | 127]) + n.to_bytes(8, "big")
    s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(message)))
    data = rest
    while True:
        if len(data) >= 2:
            length, offset = data[1] & 0x7F, 2
            if length == 126:
                length, offset = int.from_bytes(data[2:4], "big"), 4
            elif length == 127:
                length, offset = int.from_bytes(data[2:10], "big"), 10
            if len(data) >= offset + length:
                break
        data += s.recv(65536)
    rest = data[offset + length:]
    if data[offset:offset + length] != message:
        print("echo differs for a message of", n, "bytes")
        sys.exit(1)
print("OK")

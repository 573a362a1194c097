#!/usr/bin/env python3
"""A backend that records exactly the bytes each connection brings, for the smuggling corpus.

It answers every request it can frame (Content-Length or chunked, read leniently, as a naive
backend would) with 200 and closes a connection whose bytes it cannot frame. A connection whose
first bytes are `GET /__recorded` (sent straight to its port, not through the proxy) gets, as JSON,
what every other connection brought since the last such request: [{"connection", "data" (base64),
"closed"}], and the record is cleared.
"""
import base64, json, socket, sys, threading

lock = threading.Lock()
records = {}  # connection number -> {"data": bytearray, "closed": bool}
counter = [0]


def request_end(buffer):
    """Where the first request in `buffer` ends; None when incomplete, -1 when unframeable."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    length, chunked = 0, False
    for line in buffer[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    position = head_end + 4
    if not chunked:
        return position + length if len(buffer) >= position + length else None
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        try:
            size = int(buffer[position:line_end].split(b";")[0], 16)
        except ValueError:
            return -1
        position = line_end + 2
        if size == 0:
            while True:
                line_end = buffer.find(b"\r\n", position)
                if line_end < 0:
                    return None
                if line_end == position:
                    return line_end + 2
                position = line_end + 2
        position += size + 2
        if len(buffer) < position:
            return None


def dump(connection):
    with lock:
        listed = [{"connection": number, "data": base64.b64encode(bytes(record["data"])).decode(), "closed": record["closed"]}
                  for number, record in sorted(records.items())]
        for number in [number for number, record in records.items() if record["closed"]]:
            del records[number]
        for record in records.values():
            record["data"] = bytearray()
    body = json.dumps(listed).encode()
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                       % (len(body), body))


def serve(connection):
    with lock:
        counter[0] += 1
        number = counter[0]
    first = True
    pending = b""
    try:
        while True:
            data = connection.recv(65536)
            if not data:
                break
            if first and data.startswith(b"GET /__recorded"):
                dump(connection)
                return
            first = False
            with lock:
                records.setdefault(number, {"data": bytearray(), "closed": False})["data"] += data
            pending += data
            while True:
                end = request_end(pending)
                if end is None:
                    break
                if end < 0:
                    return
                is_head = pending.startswith(b"HEAD ")
                pending = pending[end:]
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n"
                                   + (b"" if is_head else b"recorded\n"))
    except OSError:
        pass
    finally:
        with lock:
            if number in records:
                records[number]["closed"] = True
        connection.close()


if __name__ == "__main__":
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[1])))
    listener.listen(64)
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve, args=(connection,), daemon=True).start()

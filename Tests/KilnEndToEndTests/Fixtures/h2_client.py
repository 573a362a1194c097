#!/usr/bin/env python3
"""Sends one HTTP/2 request exactly as told, unchecked, and says what came back (for the
smuggling corpus: h2 with its own header validation and normalisation turned off).

    h2_client.py PORT CASE   CASE: base64 of JSON {"headers": [[name, value], ...],
                             "data": [base64, ...], "trailers": [[name, value], ...] or null}
Prints JSON {"status": int or null, "reset": error code or null, "goaway": error code or null,
"body": text}.
"""
import base64, json, socket, ssl, sys
import h2.config, h2.connection, h2.events


def main():
    port = int(sys.argv[1])
    case = json.loads(base64.b64decode(sys.argv[2]))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=3)
    sock = context.wrap_socket(raw, server_hostname="localhost")
    assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
    config = h2.config.H2Configuration(
        client_side=True, validate_outbound_headers=False, normalize_outbound_headers=False,
        validate_inbound_headers=False, split_outbound_cookies=False)
    connection = h2.connection.H2Connection(config=config)
    connection.initiate_connection()
    stream = connection.get_next_available_stream_id()
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in case["headers"]]
    data = [base64.b64decode(d) for d in case.get("data", [])]
    trailers = case.get("trailers")
    connection.send_headers(stream, headers, end_stream=not data and not trailers)
    for index, piece in enumerate(data):
        connection.send_data(stream, piece, end_stream=index == len(data) - 1 and not trailers)
    if trailers:
        connection.send_headers(stream, [(n.encode("latin-1"), v.encode("latin-1")) for n, v in trailers], end_stream=True)
    sock.sendall(connection.data_to_send())
    result = {"status": None, "reset": None, "goaway": None, "body": ""}
    body = b""
    done = False
    try:
        while not done:
            chunk = sock.recv(65536)
            if not chunk:
                break
            for event in connection.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                    for name, value in event.headers:
                        if name == b":status":
                            result["status"] = int(value)
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                    body += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                    done = True
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                    result["reset"] = int(event.error_code)
                    done = True
                elif isinstance(event, h2.events.ConnectionTerminated):
                    result["goaway"] = int(event.error_code)
                    done = True
            sock.sendall(connection.data_to_send())
    except (socket.timeout, ConnectionError, ssl.SSLError, h2.exceptions.ProtocolError):
        pass
    result["body"] = body.decode("utf-8", "replace")[:500]
    print(json.dumps(result))


if __name__ == "__main__":
    main()

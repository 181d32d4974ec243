"""The browser tests' server closes every response body, also when the browser resets the connection."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

from tests.live_server import make_live_server

REQUESTS = 40


class Body:
    """A response body that counts how many of its kind were closed."""

    closed = 0
    lock = threading.Condition()

    def __iter__(self) -> Iterator[bytes]:
        yield b"svg"

    def close(self) -> None:
        with Body.lock:
            Body.closed += 1
            Body.lock.notify_all()


def app(environ: dict, start_response) -> Body:
    start_response("200 OK", [("Content-Type", "image/svg+xml"), ("Content-Length", "3")])
    return Body()


def reset_after_reading_the_response(port: int) -> None:
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"GET /static/favicon.svg HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert client.recv(12).startswith(b"HTTP/1.1 200")
    # Linger 0: close() sends a reset, as a browser cancelling a load does.
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


def closed_bodies_after_resets() -> int:
    Body.closed = 0
    server = make_live_server(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _ in range(REQUESTS):
            reset_after_reading_the_response(server.server_port)
        with Body.lock:
            Body.lock.wait_for(lambda: Body.closed >= REQUESTS, timeout=5)
            return Body.closed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_every_body_is_closed_when_the_browser_resets_the_connection():
    assert closed_bodies_after_resets() == REQUESTS

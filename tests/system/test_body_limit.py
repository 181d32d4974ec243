"""Request bodies larger than the app needs are refused by gunicorn's workers before they are read:
an anonymous client cannot make the server receive (and spool to disk) 100 MB."""

from __future__ import annotations

import select
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.system.harness import fresh_database, gunicorn

pytestmark = pytest.mark.system
ANNOUNCED = 100 * 1024 * 1024
CHUNK = 64 * 1024


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)  # keep our own buffering small
    return sock


def _read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 10 s pass)."""
    received = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not data:
            break
        received += data
    return received


def _headers(**extra: str) -> bytes:
    lines = [
        "POST /inloggen HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: multipart/form-data; boundary=grens",
        *(f"{name.replace('_', '-')}: {value}" for name, value in extra.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _multipart_start() -> bytes:
    return b'--grens\r\nContent-Disposition: form-data; name="bestand"; filename="groot.csv"\r\n\r\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("body")
    _url, env, _emails = fresh_database(tmp_path, "hechtwijzer_body", 1)
    with gunicorn(env) as running:
        yield running


def test_announced_100_mb_is_refused_with_413_before_the_body_is_read(server):
    sock = _connect(server.base)
    with sock:
        sock.sendall(_headers(Content_Length=str(ANNOUNCED)) + _multipart_start() + b"x" * 4096)
        started = time.monotonic()
        response = _read_response(sock)
        waited = time.monotonic() - started
    # We sent 4 KB of the 100 MB announced: an answer at all means the server did not wait for the rest.
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b"groter dan we aannemen" in response
    assert waited < 5


def test_chunked_body_without_length_is_cut_off_at_the_limit(server):
    sock = _connect(server.base)
    sent = 0
    answered = False
    with sock:
        sock.sendall(_headers(Transfer_Encoding="chunked"))
        chunk = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
        body_start = _multipart_start()
        sock.sendall(f"{len(body_start):x}\r\n".encode() + body_start + b"\r\n")
        # Keep sending until the server answers, at most 32 MB (it should stop reading after ~1 MB).
        while sent < 32 * 1024 * 1024:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answered = True
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                answered = True
                break
            sent += CHUNK
        response = _read_response(sock)
    assert answered, f"the server kept reading: {sent} bytes sent without an answer"
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    # Socket buffers on both sides hold a few MB at most; the server stopped reading long before 32 MB.
    assert sent < 16 * 1024 * 1024

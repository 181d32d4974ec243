"""The browser tests' HTTP server: werkzeug's threaded server with every response body closed.

werkzeug's development server (3.1) closes a response's body only after it has drained the
request socket; when the client resets the connection (Chromium does, cancelling a favicon or
stylesheet load as the page moves on) that read raises first and the body is never closed. For a
static file that leaves an open file behind, and its ResourceWarning fails whichever test is
running when it is collected. `closing_every_body` reads and closes the body inside the WSGI call,
so nothing the app opened outlives the request whatever happens to the socket afterwards.
Production runs gunicorn, which closes bodies in its own `finally`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


def closing_every_body(app: Any) -> Any:
    def buffered(environ: dict, start_response: Any) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return buffered


def make_live_server(app: Any) -> BaseWSGIServer:
    return make_server("127.0.0.1", 0, closing_every_body(app), threaded=True)

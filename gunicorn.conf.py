"""gunicorn settings read from the working directory (`gunicorn wsgi:app` in this folder, or `-c` this file).

Only the app decides what a proxy may tell it (TRUSTED_PROXIES, Werkzeug's ProxyFix in course/__init__.py).
gunicorn by itself believes X-Forwarded-Proto from 127.0.0.1 and from any Unix socket: with TRUSTED_PROXIES=0
a client on the same host (or anything behind a local proxy that passes the header on) could then make the
app think the request came over https. An empty table switches that off, so TRUSTED_PROXIES=0 means no
forwarded header counts, whoever sends it.
"""

secure_scheme_headers: dict[str, str] = {}

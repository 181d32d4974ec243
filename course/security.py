"""Response headers and cache rules applied to every response; malformed input refused up front."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

from course import security_log
from course.errors import render_error

MALFORMED_INPUT_MESSAGE = (
    "Het formulier bevat ongeldige tekens of een veld zonder naam. Er is niets opgeslagen. "
    "Controleer je invoer en probeer het opnieuw."
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _unstorable(text: str) -> bool:
    """NUL (PostgreSQL cannot store it in text) or a lone surrogate (not encodable as UTF-8)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _malformed_input() -> bool:
    """Unstorable text anywhere in the query string or form, or a multipart part without a name
    (Flask-WTF's CSRF check crashes on it)."""
    for data in (request.args, request.form):
        for key, value in data.items(multi=True):
            if key is None or _unstorable(key) or _unstorable(value):
                return True
    return any(key is None or _unstorable(key) for key in request.files)


def register(app: Flask) -> None:
    def reject_malformed_input() -> tuple[str, int] | None:
        if not _malformed_input():
            return None
        security_log.event("invoer_geweigerd", reason="onleesbare of ongeldige tekens")
        return render_error(400, MALFORMED_INPUT_MESSAGE)

    # First of all before_request hooks: before the CSRF check and before any view reads the input.
    app.before_request_funcs.setdefault(None, []).insert(0, reject_malformed_input)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Old browsers' frame guard, unless a page's own frame-ancestors allows framing (LTI launch pages).
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Pages of a signed-in user hold personal progress: keep them out of shared caches.
        if current_user and current_user.is_authenticated:
            headers["Cache-Control"] = "no-store"
        return response

"""Every response carries the security headers; no page needs inline script."""

from __future__ import annotations

import re

from config import TestConfig
from course import create_app
from course.extensions import db
from course.models import Role

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_csp_forbids_inline_script_and_framing(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def test_standard_security_headers_are_present_on_pages_and_errors(client):
    for url in ["/", "/bestaat-niet", "/healthz", "/static/css/app.css"]:
        with client.get(url) as response:
            headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["X-Frame-Options"] == "DENY", url
        assert headers["Referrer-Policy"] == "same-origin", url
        assert "Content-Security-Policy" in headers, url


def test_pages_of_a_signed_in_user_are_not_cached(client, login_as):
    login_as(Role.LEARNER)
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_no_page_contains_inline_script_or_event_handlers(app, client, login_as):
    login_as(Role.LEARNER)
    with app.app_context():
        urls = ["/", "/woordenlijst", "/bron", "/account/wachtwoord", "/bestaat-niet"]
        urls += [f"/lessen/{lesson.id}" for lesson in app.extensions["catalog"].lessons]
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html), url
        assert not EVENT_HANDLER.search(html), url


def test_pages_reference_no_external_hosts(app, client, login_as):
    login_as(Role.LEARNER)
    html = client.get("/lessen/inleiding").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_hsts_covers_subdomains_for_a_year_when_cookies_are_secure(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        with app.test_client().get("/") as response:
            hsts = response.headers.get("Strict-Transport-Security")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert hsts == "max-age=31536000; includeSubDomains"


def test_trace_and_other_unused_methods_are_refused(client):
    for method in ["TRACE", "PUT", "DELETE", "PATCH"]:
        with client.open("/", method=method) as response:
            assert response.status_code == 405, method


def test_with_secure_cookies_the_session_cookie_is_bound_to_this_host(app):
    """The __Host- prefix: Secure, Path=/ and no Domain, so no other (sub)domain can set or overwrite it."""
    secure_app = create_app(
        TestConfig, SESSION_COOKIE_SECURE=True, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]
    )
    try:
        with secure_app.test_client().get("/inloggen") as response:
            cookie = response.headers["Set-Cookie"]
    finally:
        with secure_app.app_context():
            db.engine.dispose()
    assert cookie.startswith("__Host-session=")
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes
    assert not any(part.startswith("domain=") for part in attributes)

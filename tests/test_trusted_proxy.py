"""Behind a reverse proxy, per-client limits count the real client, and nobody forges their address.

The login throttle (30 failures per client address in 15 minutes) and the other per-client limits key
on request.remote_addr. Behind nginx that is the proxy's address unless the app trusts the proxy's
X-Forwarded-For entry (TRUSTED_PROXIES); without a proxy the header must be ignored. The same setting
decides the scheme (X-Forwarded-Proto): https in external URLs and Flask-WTF's https-only Referer check.
The host is never taken from X-Forwarded-Host: the proxies pass the browser's Host header on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import jsonify, request, url_for

from config import TestConfig
from course import create_app
from course.auth import throttle
from course.extensions import db
from tests.conftest import PASSWORD, csrf_token

LIMIT = 3


@pytest.fixture
def make_app(app) -> Iterator:
    made = []

    def make(trusted_proxies: int):
        other = create_app(
            TestConfig,
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
            TRUSTED_PROXIES=trusted_proxies,
            LOGIN_THROTTLE_MAX_PER_CLIENT=LIMIT,
        )
        made.append(other)
        other.add_url_rule("/_proxy_probe", "proxy_probe", _probe)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def _probe():
    """What the app makes of the request it got: the inputs of every per-client limit and external link."""
    return jsonify(
        remote_addr=request.remote_addr,
        client_key=throttle.client_key(request.remote_addr),
        secure=request.is_secure,
        external=url_for("lessons.index", _external=True),
    )


def probe(app, **headers: str) -> dict:
    """The probe as relayed by a proxy at 10.0.0.1."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    return client.get("/_proxy_probe", headers=headers).get_json()


FORGED = {
    "X-Forwarded-For": "192.0.2.66",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "phishing.example",
    "X-Forwarded-Port": "8443",
    "X-Forwarded-Prefix": "/elders",
}


def test_without_a_trusted_proxy_forwarded_headers_change_nothing(make_app):
    direct = make_app(trusted_proxies=0)
    plain = probe(direct, Host="leren.example.nl")
    with direct.test_request_context():
        proxy_key = throttle.client_key("10.0.0.1")
    assert plain == {
        "remote_addr": "10.0.0.1",
        "client_key": proxy_key,
        "secure": False,
        "external": "http://leren.example.nl/",
    }
    assert probe(direct, Host="leren.example.nl", **FORGED) == plain


def test_behind_one_proxy_the_last_hop_decides_address_and_scheme(make_app):
    proxied = make_app(trusted_proxies=1)
    seen = probe(
        proxied,
        Host="leren.example.nl",
        **{**FORGED, "X-Forwarded-For": "192.0.2.66, 203.0.113.7", "X-Forwarded-Proto": "http, https"},
    )
    with proxied.test_request_context():
        proxy_key = throttle.client_key("203.0.113.7")
    # The client's own "192.0.2.66" and "http" are ignored; the proxy's entries count. The host stays the
    # Host header's, whatever X-Forwarded-Host says.
    assert seen == {
        "remote_addr": "203.0.113.7",
        "client_key": proxy_key,
        "secure": True,
        "external": "https://leren.example.nl/",
    }


def test_behind_a_proxy_https_posts_need_a_same_origin_referer(make_app, create_user):
    """Over https (as the proxy says) Flask-WTF also checks the Referer: a cross-site form post is refused."""
    proxied = make_app(trusted_proxies=1)
    user = create_user()
    client = proxied.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    proxy_headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    token = csrf_token(client, "/inloggen")
    form = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    cross_site = client.post(
        "/inloggen", data=form, headers={**proxy_headers, "Referer": "https://phishing.example/inloggen"}
    )
    assert cross_site.status_code == 400
    same_site = client.post("/inloggen", data=form, headers={**proxy_headers, "Referer": "https://localhost/inloggen"})
    assert same_site.status_code == 302


def test_without_a_trusted_proxy_a_forged_scheme_does_not_switch_on_https_rules(make_app, create_user):
    direct = make_app(trusted_proxies=0)
    user = create_user()
    client = direct.test_client()
    token = csrf_token(client, "/inloggen")
    signed_in = client.post(
        "/inloggen",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert signed_in.status_code == 302, "plain http as it came in: no https-only Referer check"


def login(app, email: str, password: str, forwarded_for: str) -> int:
    """A login as relayed by a proxy at 10.0.0.1 for a browser at `forwarded_for`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    token = csrf_token(client, "/inloggen")
    response = client.post(
        "/inloggen",
        data={"email": email, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
    )
    response.close()
    return response.status_code


def test_behind_a_proxy_one_noisy_client_does_not_lock_out_the_others(make_app, create_user):
    proxied = make_app(trusted_proxies=1)
    user = create_user()
    for n in range(LIMIT):
        assert login(proxied, f"onbekend{n}@example.org", "fout wachtwoord", "203.0.113.7") == 200
    assert login(proxied, user.email, PASSWORD, "203.0.113.7") == 429, "the noisy client is throttled"
    assert login(proxied, user.email, PASSWORD, "198.51.100.20") == 302, "another client behind the proxy is not"


def test_without_a_trusted_proxy_a_forged_address_does_not_escape_the_throttle(make_app, create_user):
    direct = make_app(trusted_proxies=0)
    user = create_user()
    for n in range(LIMIT):
        assert login(direct, f"onbekend{n}@example.org", "fout wachtwoord", f"192.0.2.{n}") == 200
    assert login(direct, user.email, PASSWORD, "192.0.2.99") == 429

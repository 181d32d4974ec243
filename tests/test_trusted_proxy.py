"""Behind a reverse proxy, per-client limits count the real client, and nobody forges their address.

The login throttle (30 failures per client address in 15 minutes) and the other per-client limits key
on request.remote_addr. Behind nginx that is the proxy's address unless the app trusts the proxy's
X-Forwarded-For entry (TRUSTED_PROXIES); without a proxy the header must be ignored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config import TestConfig
from course import create_app
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
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


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

"""Shared fixtures: one migrated database per test session, emptied after every test.

The database is SQLite in a temp file by default; set TEST_DATABASE_URL to run the
same suite on PostgreSQL (scripts/test.sh does both).
"""

from __future__ import annotations

import os
import random
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from itertools import count

import pyotp
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from config import TestConfig
from course import create_app
from course.auth import accounts, two_factor
from course.extensions import db as _db
from course.extensions import mail
from course.models import OutboxMessage, Role, User
from course.quizzes import attempts as quiz_attempts
from course.timeutil import utcnow

PASSWORD = "correct horse battery"
# The authenticator app of every test account with two-step sign-in (admins, by default).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Every draw of questions, cases and option orders in the test process comes from this seed, so no
# test passes or fails by the luck of a draw. The run's header states it; set HECHTWIJZER_TEST_SEED
# to replay another run. Properties that must hold for every draw are checked over many seeds
# (tests/test_draws.py).
DRAW_SEED = int(os.environ.get("HECHTWIJZER_TEST_SEED", "20210301"))


def pytest_report_header() -> str:
    return f"quiz draws seeded: HECHTWIJZER_TEST_SEED={DRAW_SEED}"


@pytest.fixture(autouse=True)
def _seeded_draws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test draws from its own reproducible sequence (seed and test id), whatever runs before it."""
    draws = random.Random(f"{DRAW_SEED}:{request.node.nodeid}")
    monkeypatch.setattr(quiz_attempts, "_rng", lambda: random.Random(draws.getrandbits(64)))


def database_url(tmp_dir: str) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/test.db"


def reset_schema(engine: sa.Engine) -> None:
    """Drop everything so the migrations, not create_all, build the schema under test."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            meta = sa.MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp_dir = str(tmp_path_factory.mktemp("db"))
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url(tmp_dir))
    with app.app_context():
        reset_schema(_db.engine)
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


def empty_tables(app: Flask) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" in request.fixturenames:
        empty_tables(request.getfixturevalue("app"))


@pytest.fixture
def db(app: Flask) -> Iterator[object]:
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


_emails = count(1)


@pytest.fixture
def create_user(app: Flask) -> Callable[..., User]:
    """Factory: create_user(role=Role.LEARNER, email=None, password=PASSWORD, name=...)."""

    def make(
        role: Role = Role.LEARNER,
        email: str | None = None,
        password: str = PASSWORD,
        name: str = "Test Gebruiker",
        active: bool = True,
        two_step: bool | None = None,
        verified: bool = True,
    ) -> User:
        """`two_step` None: on for the roles that require it (admins), as a real account must be.
        `verified`: the address was proved by a mailed link, as for every self-registered account."""
        with app.app_context():
            user = accounts.create_user(
                email or f"user{next(_emails)}@example.org",
                name,
                password,
                role,
                verified_at=utcnow() if verified else None,
            )
            user.active = active
            if two_step or (two_step is None and two_factor.required_for(user)):
                two_factor.store_secret(user, TOTP_SECRET, utcnow())
                two_factor.new_recovery_codes(user)
            _db.session.commit()
            _db.session.refresh(user)
            _db.session.expunge(user)
            return user

    return make


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the first form on the page at `url`."""
    page = client.get(url)
    match = _CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def current_totp_code(app: Flask, email: str) -> str:
    """The code the test app shows now. A real app cannot sign in twice within one 30-second step
    (each code is single-use), but tests sign the same account in many times: forget the last step."""
    with app.app_context():
        _db.session.execute(sa.update(User).where(User.email == email).values(totp_last_step=None))
        _db.session.commit()
    return pyotp.TOTP(TOTP_SECRET).now()


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = PASSWORD, next_url: str | None = None):
        """Sign in; for an account with two-step sign-in also the code step (returns its response)."""
        token = csrf_token(self._client, "/inloggen")
        data = {"email": email, "password": password, "csrf_token": token}
        if next_url is not None:
            data["next"] = next_url
        response = self._client.post("/inloggen", data=data)
        if response.status_code == 302 and response.headers["Location"] == "/inloggen/code":
            return self.second_step(email)
        return response

    def second_step(self, email: str, code: str | None = None):
        token = csrf_token(self._client, "/inloggen/code")
        code = code or current_totp_code(self._client.application, email)
        return self._client.post("/inloggen/code", data={"code": code, "csrf_token": token})

    def logout(self):
        token = csrf_token(self._client, "/")
        return self._client.post("/uitloggen", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(client: FlaskClient, auth: AuthActions, create_user) -> Callable[[Role], User]:
    """Create a user with `role` and sign the test client in as that user."""

    def do(role: Role = Role.LEARNER) -> User:
        user = create_user(role=role)
        response = auth.login(user.email)
        assert response.status_code == 302, "login failed in fixture"
        return user

    return do


@dataclass
class Person:
    user: User
    client: FlaskClient

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def name(self) -> str:
        return self.user.display_name


def sign_in(app, user: User) -> FlaskClient:
    """A browser of its own for `user`, signed in."""
    client = app.test_client()
    response = AuthActions(client).login(user.email)
    assert response.status_code == 302, f"login failed for account {user.id}"
    return client


@pytest.fixture
def person(app, create_user):
    """Factory: person(role, name) -> a user with a signed-in client of their own."""

    def make(role: Role = Role.LEARNER, name: str = "Test Gebruiker", email: str | None = None) -> Person:
        user = create_user(role=role, name=name, email=email)
        return Person(user, sign_in(app, user))

    return make


# --- mail ---------------------------------------------------------------------------------------

_LINK_RE = re.compile(r"https?://[^\s/]+(/\S+)")


def outbox_rows(app: Flask, recipient: str | None = None) -> list[OutboxMessage]:
    """Outbox rows, oldest first (for one recipient if given), detached for reading."""
    with app.app_context():
        statement = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if recipient is not None:
            statement = statement.where(OutboxMessage.recipient == recipient)
        rows = list(_db.session.scalars(statement))
        _db.session.expunge_all()
        return rows


def link_in_mail(app: Flask, recipient: str, prefix: str) -> str:
    """The path of the link starting with `prefix` in the newest mail to `recipient` (still in the outbox)."""
    row = outbox_rows(app, recipient)[-1]
    paths = [path for path in _LINK_RE.findall(row.body_text) if path.startswith(prefix)]
    assert paths, f"no link to {prefix} in the mail ‘{row.subject}’"
    return paths[0]


def confirm_registration_link(client: FlaskClient, path: str):
    """Open a mailed confirmation link and press the button on the page it shows."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(
        "/registreren/bevestigen", data={"token": token, "csrf_token": csrf_token(client, path)}, follow_redirects=True
    )


def confirm_registration(app: Flask, client: FlaskClient, email: str):
    """Follow the confirmation link in the newest mail to `email`: the account is made then."""
    return confirm_registration_link(client, link_in_mail(app, email, "/registreren/bevestigen/"))


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; `messages` holds what it received, parsed."""

    port: int
    messages: list[EmailMessage]


def plain_text(message: EmailMessage) -> str:
    """The plain-text part of a delivered mail (every mail is multipart text + HTML)."""
    return message.get_body(preferencelist=("plain",)).get_content()


def html_text(message: EmailMessage) -> str:
    """The HTML part of a delivered mail."""
    return message.get_body(preferencelist=("html",)).get_content()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mail_via_smtp(app: Flask, port: int) -> Iterator[None]:
    """Point the app's Flask-Mailman at an SMTP server on 127.0.0.1:`port`, then back to the test default."""
    saved = {
        key: app.config.get(key) for key in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_TIMEOUT")
    }
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_TIMEOUT=5)
    mail.init_app(app)
    try:
        yield
    finally:
        app.config.update(saved)
        mail.init_app(app)


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[SmtpServer]:
    """An SMTP server the app sends to for the length of the test."""
    received: list[EmailMessage] = []

    class Handler:
        async def handle_DATA(self, _server, _session, envelope):
            received.append(message_from_bytes(envelope.content, policy=default_policy))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mail_via_smtp(app, port):
            yield SmtpServer(port, received)
    finally:
        controller.stop()


# --- an OpenID Connect provider that is not ours (npm oidc-provider, tests/oidc/provider.mjs) -----

OIDC_CLIENT_ID = "hechtwijzer-test"
OIDC_CLIENT_SECRET = "test-client-secret-0123456789abcdef"
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class OidcPeer:
    issuer: str
    discovery_url: str
    client_id: str
    client_secret: str


@contextmanager
def oidc_provider_process(redirect_uris: list[str]) -> Iterator[OidcPeer]:
    """Start Node's oidc-provider on a free port; its login page accepts any login name (see the script)."""
    import select
    import subprocess

    if not os.path.isdir(os.path.join(_REPO, "node_modules", "oidc-provider")):
        # Like the HTML check: a checkout without the Node packages skips, CI (which installs them) fails.
        reason = "node_modules/oidc-provider is missing: run `npm ci --ignore-scripts` (scripts/test.sh does)"
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"the OpenID Connect tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    port = free_port()
    process = subprocess.Popen(
        ["node", "tests/oidc/provider.mjs", str(port), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, ",".join(redirect_uris)],
        cwd=_REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # Wait for its "ready" line (not a sleep): readable within 20 s or the provider failed to start.
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("ready "):
            raise RuntimeError(f"oidc-provider did not start (npm ci installs it): {line!r}")
        issuer = line.split()[1]
        yield OidcPeer(issuer, f"{issuer}/.well-known/openid-configuration", OIDC_CLIENT_ID, OIDC_CLIENT_SECRET)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.fixture
def add_oidc_provider(app: Flask, create_user) -> Callable[..., int]:
    """Factory: an organisation provider as an admin would configure it; returns its id."""

    def make(peer: OidcPeer, slug: str = "zorggroep", name: str = "Zorggroep Noord", **settings: str) -> int:
        from course.sso import providers

        admin = create_user(Role.ADMIN)
        with app.app_context():
            provider = providers.save_provider(
                None,
                _db.session.get(User, admin.id),
                slug=slug,
                name=name,
                discovery_url=peer.discovery_url,
                client_id=peer.client_id,
                client_secret=peer.client_secret,
                role_claim=settings.get("role_claim", ""),
                trainer_values=settings.get("trainer_values", ""),
                admin_values=settings.get("admin_values", ""),
                enabled=True,
            )
            _db.session.commit()
            return provider.id

    return make

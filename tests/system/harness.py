"""A real server for system tests and benchmarks: gunicorn (2 sync workers) on 127.0.0.1,
on its own SQLite file or its own PostgreSQL database, with learners seeded in bulk."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from config import BASE_DIR

PASSWORD = "load-test-password"
FAST_HASH_METHOD = "pbkdf2:sha256:1000"
FAST_HASH = generate_password_hash(PASSWORD, method=FAST_HASH_METHOD)  # logins stay cheap under load
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Several app servers share one database server; an SQLite file is one host's (README "Production").
postgresql_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="several app servers need a shared database server: PostgreSQL only (scripts/test.sh's second pass)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(tmp_path: Path, name: str) -> str:
    """A fresh database: a SQLite file, or a new database beside TEST_DATABASE_URL's."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / (name + '.db')}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def server_env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "system-test-secret",
        "SESSION_COOKIE_SECURE": "0",
        "HECHTWIJZER_INSTANCE": str(tmp_path / "instance"),
        # Certificate PDFs need it (the benchmark downloads one); the port does not matter here.
        "PUBLIC_BASE_URL": "http://hechtwijzer.test",
        # The seeded hashes' method: otherwise every first sign-in would re-hash with scrypt.
        "PASSWORD_HASH_METHOD": FAST_HASH_METHOD,
        **extra,
    }


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
    )


def seed_learners(url: str, count: int) -> list[str]:
    engine = sa.create_engine(url)
    emails = [f"load{i}@example.org" for i in range(count)]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (email, display_name, password_hash, role, active, created_at) "
                "VALUES (:email, :name, :hash, 'learner', true, CURRENT_TIMESTAMP)"
            ),
            [{"email": e, "name": f"Load {i}", "hash": FAST_HASH} for i, e in enumerate(emails)],
        )
    engine.dispose()
    return emails


def fresh_database(tmp_path: Path, name: str, learners: int, **extra_env: str) -> tuple[str, dict[str, str], list[str]]:
    """A migrated database holding `learners` learner accounts: (its URL, a server environment, their e-mails)."""
    url = database_url(tmp_path, name)
    env = server_env(url, tmp_path, **extra_env)
    migrate(env)
    return url, env, seed_learners(url, learners)


class Failpoint:
    """The handshake of course/failpoints.py: the server holds the first request that reaches `name`
    and says so with a marker file; the test waits for that marker before it acts."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = name
        directory.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        return {"HECHTWIJZER_FAILPOINT": self.name, "HECHTWIJZER_FAILPOINT_DIR": str(self.directory)}

    def wait_until_reached(self, seconds: float = 30) -> int:
        """Wait for a request to be held at the point; the process id of the worker holding it."""
        marker = self.directory / f"{self.name}.reached"
        deadline = time.monotonic() + seconds
        while not marker.exists():
            assert time.monotonic() < deadline, f"no request reached the failpoint {self.name} in {seconds} s"
            time.sleep(0.02)
        return int(marker.read_text(encoding="ascii"))

    def release(self) -> None:
        """Let the held request go on."""
        (self.directory / f"{self.name}.release").touch()


def wait_until_live(base: str, seconds: float, verify: bool | str = True) -> bool:
    """Poll /livez until it answers 200; False when `seconds` pass first. `verify`: as in requests."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/livez", timeout=1, verify=verify).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    url: str
    log: Path  # gunicorn's output, the app's log lines included

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return [int(p) for p in out.stdout.split()]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day (openssl): (certificate, key).
    An EC key: every request of a sync worker is a new TLS handshake, and EC signs them fastest."""
    cert, key = folder / "127.0.0.1.crt", folder / "127.0.0.1.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def gunicorn(
    env: dict[str, str],
    workers: int = 2,
    timeout: int = 30,
    tls: tuple[Path, Path] | None = None,
    start_seconds: float = 30,
):
    """gunicorn on a free loopback port; over https with `tls` = (certificate, key). `start_seconds`: how long
    it may take to answer /livez (more workers each load the app, on the same 2 cores)."""
    port = free_port()
    log = open(Path(env["HECHTWIJZER_INSTANCE"]).parent / f"gunicorn-{port}.log", "w")  # noqa: SIM115
    tls_options = ["--certfile", str(tls[0]), "--keyfile", str(tls[1])] if tls else []
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            str(timeout),
            *tls_options,
            "wsgi:app",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        if not wait_until_live(base, start_seconds, verify=str(tls[0]) if tls else True):
            raise RuntimeError("gunicorn did not start; see " + log.name)
        yield Server(base, process, env["DATABASE_URL"], Path(log.name))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def csrf(session: requests.Session, url: str) -> tuple[str, str]:
    page = session.get(url, timeout=30)
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {url}: {page.status_code}"
    return match.group(1), page.text


def login(session: requests.Session, base: str, email: str) -> requests.Response:
    token, _ = csrf(session, f"{base}/inloggen")
    return session.post(
        f"{base}/inloggen",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        timeout=30,
        allow_redirects=False,
    )


_RADIO = re.compile(r'<input type="(radio|checkbox)" id="[^"]+" name="(q\d+)" value="(\d+)"')
_SELECT = re.compile(r'<select id="(q\d+-\d+)" name="\1">\s*<option value="">[^<]*</option>\s*<option value="([^"]+)"')
_REVISION = re.compile(r'name="revision" value="(\d+)"')


def answers_from_page(html: str) -> dict[str, str]:
    """A full (not necessarily right) answer for every question on an attempt page."""
    fields: dict[str, str] = {}
    for _kind, name, value in _RADIO.findall(html):
        fields.setdefault(name, value)
    for name, category in _SELECT.findall(html):
        fields[name] = category
    fields["revision"] = _REVISION.search(html).group(1)
    fields["csrf_token"] = _CSRF.search(html).group(1)
    return fields


def start_attempt(session: requests.Session, base: str, quiz_id: str) -> requests.Response:
    """Start a graded attempt from the quiz's page; the answer is the attempt page (after the redirect)."""
    token, _ = csrf(session, f"{base}/toetsen/{quiz_id}")
    return session.post(f"{base}/toetsen/{quiz_id}/starten", data={"csrf_token": token}, timeout=60)


def take_quiz(session: requests.Session, base: str, quiz_id: str) -> list[int]:
    """Start and finish one attempt; the status codes of every request on the way."""
    statuses = []
    start = start_attempt(session, base, quiz_id)
    statuses.append(start.status_code)
    if start.status_code != 200 or "/pogingen/" not in start.url:
        return statuses
    fields = answers_from_page(start.text)
    finish = session.post(f"{start.url}/afronden", data={**fields, "confirm_incomplete": "1"}, timeout=60)
    statuses.append(finish.status_code)
    return statuses

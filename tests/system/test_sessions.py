"""Ending a session holds on every gunicorn worker at once: a cookie copied before logout, and a
session ended from the session list, are refused by both workers on the very next request."""

from __future__ import annotations

import re

import pytest
import requests

from tests.system.harness import PASSWORD, csrf, fresh_database, gunicorn, login

pytestmark = pytest.mark.system
# Each sync worker takes whichever connection it accepts first; this many requests reach both.
REQUESTS = 20
_SESSION_ROW = re.compile(r'name="session_id" value="(\d+)"')


def refused_everywhere(session: requests.Session, base: str) -> list[int]:
    """Status of REQUESTS data exports with this cookie (a fresh connection each: sync workers)."""
    statuses = []
    for _ in range(REQUESTS):
        response = session.get(f"{base}/account/gegevens.json", allow_redirects=False, timeout=30)
        statuses.append(response.status_code)
        assert response.status_code != 302 or response.headers["Location"].startswith("/inloggen")
    return statuses


def test_logout_and_ending_a_session_hold_on_every_worker(tmp_path):
    _url, env, (email,) = fresh_database(tmp_path, "hechtwijzer_sessions", 1)
    with gunicorn(env, workers=2) as server:
        base = server.base
        assert len(server.worker_pids()) == 2
        with requests.Session() as laptop, requests.Session() as stolen, requests.Session() as phone:
            assert login(laptop, base, email).status_code == 302
            stolen.cookies.update(laptop.cookies)
            assert set(refused_everywhere(stolen, base)) == {200}, "the copy works while the session is open"

            token, _ = csrf(laptop, f"{base}/account/profiel")
            assert laptop.post(f"{base}/uitloggen", data={"csrf_token": token}, timeout=30).status_code == 200
            assert set(refused_everywhere(stolen, base)) == {302}

            # Signed in on two devices; the laptop ends the phone's session from the list.
            assert login(laptop, base, email).status_code == 302
            assert login(phone, base, email).status_code == 302
            assert set(refused_everywhere(phone, base)) == {200}
            token, page = csrf(laptop, f"{base}/account/sessies")
            (phone_row,) = _SESSION_ROW.findall(page)  # the laptop's own row has a logout button instead
            ended = laptop.post(
                f"{base}/account/sessies/beeindigen",
                data={"csrf_token": token, "session_id": phone_row, "password": PASSWORD},
                timeout=30,
            )
            assert ended.status_code == 200 and "De sessie is beëindigd." in ended.text
            assert set(refused_everywhere(phone, base)) == {302}
            assert set(refused_everywhere(laptop, base)) == {200}

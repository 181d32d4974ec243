"""Counts that only matter for a while are deleted once their window has passed: failed logins,
rate-limit hits and sessions. `flask course prune` does it for all of them (README: run it from cron);
sign-in already drops expired sessions, and `allow` drops the expired hits of the client it counts."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from course import ratelimit
from course.auth import throttle
from course.certificates import codes
from course.extensions import db
from course.models import LoginFailure, LoginSession, RateLimitHit
from course.timeutil import utcnow
from tests.conftest import AuthActions, csrf_token
from tests.helpers import count, run_sql, signed_in, signed_out

CLIENTS = ("10.0.0.1", "10.0.0.2")
SECOND = timedelta(seconds=1)


def fail_logins(app, email: str, remote_addr: str, times: int = 1) -> None:
    client = app.test_client()
    for _ in range(times):
        token = csrf_token(client, "/inloggen")
        response = client.post(
            "/inloggen",
            data={"email": email, "password": "fout wachtwoord", "csrf_token": token},
            environ_base={"REMOTE_ADDR": remote_addr},
        )
        assert "E-mailadres of wachtwoord klopt niet." in response.get_data(as_text=True)


def look_up_certificates(app, remote_addr: str, times: int = 1) -> None:
    client = app.test_client()
    for _ in range(times):
        response = client.get(f"/verifieren/{codes.new_code()}", environ_base={"REMOTE_ADDR": remote_addr})
        assert response.status_code == 404


def pruned(app, prune, now) -> int:
    with app.app_context():
        deleted = prune(now=now)
        db.session.commit()
        return deleted


def test_failed_logins_are_pruned_once_the_clock_passes_their_window(app, create_user):
    user = create_user()
    before = utcnow()
    for address in CLIENTS:
        fail_logins(app, user.email, address)
    fail_logins(app, "niemand@example.org", CLIENTS[0])
    after = utcnow()
    window = timedelta(seconds=app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])

    assert pruned(app, throttle.prune_expired, before + window - SECOND) == 0
    assert count(app, LoginFailure) == 3
    assert pruned(app, throttle.prune_expired, after + window + SECOND) == 3
    assert count(app, LoginFailure) == 0


def test_rate_limit_hits_of_every_client_are_pruned_once_the_clock_passes_the_longest_window(app):
    before = utcnow()
    for address in CLIENTS:
        look_up_certificates(app, address, times=2)
    after = utcnow()
    with app.app_context():
        longest = ratelimit.longest_window()
    assert longest == timedelta(seconds=app.config["REGISTER_RATE_WINDOW_SECONDS"])  # 15 minutes

    assert pruned(app, ratelimit.prune_expired, before + longest - SECOND) == 0
    assert count(app, RateLimitHit) == 4
    assert pruned(app, ratelimit.prune_expired, after + longest + SECOND) == 4
    assert count(app, RateLimitHit) == 0


def test_flask_course_prune_deletes_what_expired_and_keeps_what_still_counts(app, runner, create_user):
    locked, idle, active = create_user(), create_user(), create_user()
    limit = app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"]
    fail_logins(app, locked.email, CLIENTS[0], times=limit)
    fail_logins(app, "niemand@example.org", CLIENTS[1], times=2)  # nobody signs in to clear them
    look_up_certificates(app, CLIENTS[0], times=3)
    look_up_certificates(app, CLIENTS[1])
    idle_browser = app.test_client()
    assert AuthActions(idle_browser).login(idle.email).status_code == 302
    active_browser = app.test_client()
    assert AuthActions(active_browser).login(active.email).status_code == 302

    # The clock moves on for some of them: their rows date from before the window.
    long_ago = utcnow() - timedelta(hours=1)
    idle_ago = utcnow() - timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT_SECONDS"]) - timedelta(minutes=1)
    with app.app_context():
        old_failures = throttle.client_key(CLIENTS[1])
        old_hits = ratelimit.client_pseudonym("verify", CLIENTS[0])
    run_sql(app, sa.update(LoginFailure).where(LoginFailure.client_key == old_failures).values(attempted_at=long_ago))
    run_sql(app, sa.update(RateLimitHit).where(RateLimitHit.client_key == old_hits).values(at=long_ago))
    run_sql(app, sa.update(LoginSession).where(LoginSession.user_id == idle.id).values(last_seen_at=idle_ago))

    result = runner.invoke(args=["course", "prune"])
    assert result.exit_code == 0, result.output
    assert (
        result.output == "Opgeruimd: 2 mislukte inlogpogingen, 3 tellingen van verzoeklimieten, 1 verlopen sessies; "
        "0 cursisten met een nieuwe status op het groepsoverzicht.\n"
    )

    assert count(app, LoginFailure) == limit
    assert count(app, RateLimitHit) == 1
    assert count(app, LoginSession, LoginSession.user_id == idle.id) == 0
    assert signed_out(idle_browser)
    assert signed_in(active_browser)
    # What still counts still holds: the locked account stays locked.
    response = AuthActions(app.test_client()).login(locked.email)
    assert response.status_code == 429
    assert "Te veel mislukte inlogpogingen" in response.get_data(as_text=True)

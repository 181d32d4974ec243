"""Sign-in throttling: too many recent failures lock an account (from any address) and an address
(for any account), until the failures leave the window. Counted in the database for all workers."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from course.auth import throttle
from course.models import LoginFailure
from course.timeutil import as_utc


def fail(db, email: str, address: str | None, times: int = 1) -> None:
    for _ in range(times):
        throttle.record_failure(email, address)
    db.session.commit()


def age(db, seconds: int) -> None:
    for failure in db.session.scalars(sa.select(LoginFailure)):
        failure.attempted_at = as_utc(failure.attempted_at) - timedelta(seconds=seconds)
    db.session.commit()


def failures(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure))


def test_an_account_is_locked_after_its_limit_of_failures(app, db):
    limit = app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"]
    fail(db, "an@example.org", "10.0.0.1", limit - 1)
    assert throttle.is_throttled("an@example.org", "10.0.0.9") is False
    fail(db, "an@example.org", "10.0.0.2")
    # From any address: spreading the guesses over addresses does not help.
    assert throttle.is_throttled("an@example.org", "10.0.0.9") is True
    assert throttle.is_throttled(" AN@Example.org ", "10.0.0.9") is True  # the address as people type it


def test_one_account_s_failures_do_not_lock_another_account(app, db):
    fail(db, "an@example.org", "10.0.0.1", app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"])
    assert throttle.is_throttled("bo@example.org", "10.0.0.2") is False


def test_an_address_is_locked_after_its_limit_of_failures_over_any_accounts(app, db):
    limit = app.config["LOGIN_THROTTLE_MAX_PER_CLIENT"]
    assert limit > app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"]
    for n in range(limit - 1):
        fail(db, f"user{n}@example.org", "10.0.0.1")
    assert throttle.is_throttled("new@example.org", "10.0.0.1") is False
    fail(db, "last@example.org", "10.0.0.1")
    assert throttle.is_throttled("new@example.org", "10.0.0.1") is True
    assert throttle.is_throttled("new@example.org", "10.0.0.2") is False  # another address is not locked


def test_failures_count_only_within_the_window(app, db):
    window = app.config["LOGIN_THROTTLE_WINDOW_SECONDS"]
    fail(db, "an@example.org", "10.0.0.1", app.config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"])
    age(db, window - 5)
    assert throttle.is_throttled("an@example.org", "10.0.0.1") is True
    age(db, 10)
    assert throttle.is_throttled("an@example.org", "10.0.0.1") is False


def test_a_successful_sign_in_clears_only_that_account_s_failures(db):
    fail(db, "an@example.org", "10.0.0.1", 2)
    fail(db, "bo@example.org", "10.0.0.1", 1)
    throttle.clear_failures("An@example.org")
    db.session.commit()
    assert failures(db) == 1


def test_pruning_deletes_failures_that_left_the_window_and_keeps_the_rest(app, db):
    fail(db, "an@example.org", "10.0.0.1", 2)
    age(db, app.config["LOGIN_THROTTLE_WINDOW_SECONDS"] + 1)
    fail(db, "bo@example.org", "10.0.0.1", 1)
    assert throttle.prune_expired() == 2
    db.session.commit()
    assert failures(db) == 1
    assert throttle.prune_expired() == 0

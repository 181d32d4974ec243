"""Login throttling counted in the database, so every gunicorn worker sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from course.extensions import db
from course.models import LoginFailure
from course.pseudonyms import client_pseudonym, keyed_hash
from course.timeutil import utcnow


def account_key(email: str) -> str:
    return keyed_hash("account", email.strip().lower())


def client_key(remote_addr: str | None) -> str:
    return client_pseudonym("client", remote_addr)


def is_throttled(email: str, remote_addr: str | None) -> bool:
    """True while the account or the client has too many recent failures."""
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    account_failures, client_failures = db.session.execute(
        sa.select(
            sa.func.count().filter(LoginFailure.account_key == account_key(email)),
            sa.func.count().filter(LoginFailure.client_key == client_key(remote_addr)),
        ).where(LoginFailure.attempted_at >= since)
    ).one()
    return (
        account_failures >= config["LOGIN_THROTTLE_MAX_PER_ACCOUNT"]
        or client_failures >= config["LOGIN_THROTTLE_MAX_PER_CLIENT"]
    )


def record_failure(email: str, remote_addr: str | None) -> None:
    db.session.add(LoginFailure(account_key=account_key(email), client_key=client_key(remote_addr)))


def clear_failures(email: str) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.account_key == account_key(email)))


def prune_expired(now: datetime | None = None) -> int:
    """Delete failures older than the window; they no longer count for anything (`flask course prune`)."""
    since = (now or utcnow()) - timedelta(seconds=current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    result = db.session.execute(sa.delete(LoginFailure).where(LoginFailure.attempted_at < since))
    return result.rowcount or 0

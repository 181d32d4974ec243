"""Per-client request limits counted in the database (shared by all workers)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from course.extensions import db
from course.models import RateLimitHit
from course.pseudonyms import client_pseudonym
from course.timeutil import utcnow


def allow(bucket: str, remote_addr: str | None, limit: int, window_seconds: int) -> bool:
    """Count this request; False when the client already used `limit` requests in the window."""
    key = client_pseudonym(bucket, remote_addr)
    now = utcnow()
    since = now - timedelta(seconds=window_seconds)
    used = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RateLimitHit)
        .where(RateLimitHit.bucket == bucket, RateLimitHit.client_key == key, RateLimitHit.at >= since)
    )
    if used >= limit:
        return False
    db.session.add(RateLimitHit(bucket=bucket, client_key=key, at=now))
    # Old hits count for nothing; drop this client's expired ones as we go.
    db.session.execute(
        sa.delete(RateLimitHit).where(
            RateLimitHit.bucket == bucket, RateLimitHit.client_key == key, RateLimitHit.at < since
        )
    )
    db.session.commit()
    return True


def longest_window() -> timedelta:
    """The longest window any bucket counts in: every `*_RATE_WINDOW_SECONDS` setting."""
    config = current_app.config
    return timedelta(seconds=max(int(config[key]) for key in config if key.endswith("_RATE_WINDOW_SECONDS")))


def prune_expired(now: datetime | None = None) -> int:
    """Delete hits older than the longest window, of every client (`allow` only drops the caller's)."""
    since = (now or utcnow()) - longest_window()
    result = db.session.execute(sa.delete(RateLimitHit).where(RateLimitHit.at < since))
    return result.rowcount or 0

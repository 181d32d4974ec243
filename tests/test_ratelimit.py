"""Per-client request limits (certificate verification, joining a group, registration): a client gets
`limit` requests per window per bucket, then is refused until its oldest requests leave the window.
Counted in the database, so every worker sees the same count."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from course.models import RateLimitHit
from course.ratelimit import allow
from course.timeutil import as_utc

WINDOW = 60


def hits(db, bucket: str | None = None) -> list[RateLimitHit]:
    statement = sa.select(RateLimitHit).order_by(RateLimitHit.id)
    if bucket is not None:
        statement = statement.where(RateLimitHit.bucket == bucket)
    return list(db.session.scalars(statement))


def age(db, seconds: int, bucket: str | None = None) -> None:
    """Move the client's earlier requests `seconds` into the past (as if that much time went by)."""
    for hit in hits(db, bucket):
        hit.at = as_utc(hit.at) - timedelta(seconds=seconds)
    db.session.commit()


def test_a_client_gets_exactly_limit_requests_per_window(db):
    assert [allow("verify", "10.0.0.1", 3, WINDOW) for _ in range(5)] == [True, True, True, False, False]
    assert len(hits(db)) == 3  # a refused request is not counted again


def test_other_clients_keep_their_own_quota(db):
    for _ in range(3):
        allow("verify", "10.0.0.1", 3, WINDOW)
    assert allow("verify", "10.0.0.1", 3, WINDOW) is False
    assert allow("verify", "10.0.0.2", 3, WINDOW) is True


def test_buckets_do_not_share_a_quota(db):
    for _ in range(3):
        allow("verify", "10.0.0.1", 3, WINDOW)
    assert allow("verify", "10.0.0.1", 3, WINDOW) is False
    assert allow("join", "10.0.0.1", 3, WINDOW) is True


def test_a_limited_client_is_served_again_once_the_window_has_passed(db):
    for _ in range(3):
        allow("verify", "10.0.0.1", 3, WINDOW)
    assert allow("verify", "10.0.0.1", 3, WINDOW) is False
    age(db, WINDOW - 5)
    assert allow("verify", "10.0.0.1", 3, WINDOW) is False  # still inside the window
    age(db, 10)
    assert allow("verify", "10.0.0.1", 3, WINDOW) is True


def test_expired_requests_of_the_client_are_deleted_as_it_comes_back(db):
    allow("verify", "10.0.0.1", 3, WINDOW)
    allow("verify", "10.0.0.2", 3, WINDOW)
    allow("join", "10.0.0.1", 3, WINDOW)
    age(db, WINDOW + 1)
    allow("verify", "10.0.0.1", 3, WINDOW)
    # Its own expired hit in this bucket is gone; other clients' and other buckets' rows wait for their turn.
    remaining = [(hit.bucket, as_utc(hit.at)) for hit in hits(db)]
    assert len(remaining) == 3
    verify_rows = hits(db, "verify")
    assert len(verify_rows) == 2 and verify_rows[0].client_key != verify_rows[1].client_key
    assert len(hits(db, "join")) == 1


def test_the_count_is_stored_under_a_keyed_hash_of_the_address(db):
    allow("verify", "10.0.0.1", 3, WINDOW)
    allow("verify", None, 3, WINDOW)
    keys = [hit.client_key for hit in hits(db)]
    assert all("10.0.0.1" not in key for key in keys)
    assert len(set(keys)) == 2

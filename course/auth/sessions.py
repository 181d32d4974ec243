"""Server-side login sessions: one row per signed-in browser, checked on every request.

The cookie holds only a random token. Because every request looks the row up, deleting it ends
that session at once on every worker: logout, "end this session", a password change, a role
change, deactivation and erasure all work that way. No per-worker cache (decision: revocation
is immediate)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from course.extensions import db
from course.models import LoginSession, User
from course.timeutil import as_utc, utcnow

# Writing last use on every request would turn every page view into a write; this often is enough
# for the session list and for the idle timeout (which is measured in hours).
TOUCH_INTERVAL = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"])


def _idle_timeout() -> timedelta:
    return timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT_SECONDS"])


def start(user: User, user_agent: str | None) -> str:
    """A new session row for `user`; returns the token for the cookie (also set as user.login_token)."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_hash(token), device=device_label(user_agent)))
    prune_expired()
    user.login_token = token
    return token


def load(token: str, now: datetime | None = None) -> tuple[User, LoginSession] | None:
    """The active user and session for a cookie token, or None when it ended, expired or idled out."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = db.session.execute(
        sa.select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    user, login_session = row
    if not user.is_active or _expired(login_session, now):
        return None
    if now - as_utc(login_session.last_seen_at) > TOUCH_INTERVAL:
        # A conditional update: two workers touching the same session at once both succeed harmlessly.
        db.session.execute(sa.update(LoginSession).where(LoginSession.id == login_session.id).values(last_seen_at=now))
        db.session.commit()
    user.login_token = token
    return user, login_session


def _expired(login_session: LoginSession, now: datetime) -> bool:
    return (
        now - as_utc(login_session.created_at) > _lifetime()
        or now - as_utc(login_session.last_seen_at) > _idle_timeout()
    )


def end(token: str | None) -> None:
    """End the session that this token belongs to (logout)."""
    if token:
        db.session.execute(sa.delete(LoginSession).where(LoginSession.token_hash == _hash(token)))


def end_one(user: User, session_id: int) -> bool:
    """End one of `user`'s own sessions; False when it is not theirs (or already gone)."""
    result = db.session.execute(
        sa.delete(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user.id)
    )
    return bool(result.rowcount)


def end_all(user: User, keep_token: str | None = None) -> int:
    """End every session of `user`, except the one with `keep_token` when given. Returns how many."""
    statement = sa.delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_token:
        statement = statement.where(LoginSession.token_hash != _hash(keep_token))
    return db.session.execute(statement).rowcount or 0


@dataclass(frozen=True)
class SessionView:
    id: int
    device: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def list_for(user: User, current_token: str | None, now: datetime | None = None) -> list[SessionView]:
    """The user's sessions that still work, most recently used first."""
    now = now or utcnow()
    current_hash = _hash(current_token) if current_token else None
    rows = db.session.scalars(
        sa.select(LoginSession)
        .where(LoginSession.user_id == user.id)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    ).all()
    return [
        SessionView(
            id=row.id,
            device=row.device,
            created_at=as_utc(row.created_at),
            last_seen_at=as_utc(row.last_seen_at),
            current=row.token_hash == current_hash,
        )
        for row in rows
        if not _expired(row, now)
    ]


def prune_expired(now: datetime | None = None) -> int:
    """Delete sessions past their lifetime or idle timeout; they can no longer be used."""
    now = now or utcnow()
    result = db.session.execute(
        sa.delete(LoginSession).where(
            sa.or_(
                LoginSession.created_at < now - _lifetime(),
                LoginSession.last_seen_at < now - _idle_timeout(),
            )
        )
    )
    return result.rowcount or 0


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str | None) -> str:
    """A short, recognisable label ("Firefox op Windows"). The full User-Agent is not kept."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return f"{browser} op {system}"
    if browser or system:
        return browser or system or ""
    # Scripts and unknown clients: the first product token, cut short.
    product = re.match(r"[A-Za-z][\w.-]{0,30}", agent)
    return product.group(0) if product else "Onbekend apparaat"

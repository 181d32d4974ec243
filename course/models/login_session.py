from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class LoginSession(db.Model):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so a
    copy of the database cannot be turned into a working cookie. Deleting the row ends the session
    on every worker at once (logout, "end this session", password change, deactivation)."""

    __tablename__ = "login_sessions"
    __table_args__ = (sa.Index("ix_login_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # A short label such as "Firefox op Windows", not the full User-Agent string.
    device: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)


class RecoveryCode(db.Model):
    """A single-use code for signing in when the authenticator app is lost. Stored as a keyed hash."""

    __tablename__ = "recovery_codes"
    __table_args__ = (sa.Index("ix_recovery_codes_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Passkey(db.Model):
    """A WebAuthn credential (passkey or security key) registered as a second step besides the app."""

    __tablename__ = "passkeys"
    __table_args__ = (sa.Index("ix_passkeys_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # base64url of the authenticator's credential id (at most 1023 bytes by the WebAuthn spec).
    credential_id: Mapped[str] = mapped_column(sa.String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    name: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # SHA-256 of the challenge last signed: the session that carries a challenge is a cookie, so a
    # replayed cookie and answer must be refused here (authenticators without a counter stay at 0).
    last_challenge: Mapped[str | None] = mapped_column(sa.String(64))

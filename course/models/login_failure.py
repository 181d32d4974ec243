from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class LoginFailure(db.Model):
    """One failed login. Keys are keyed hashes, so no e-mail address or IP is stored."""

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.Index("ix_login_failures_account_at", "account_key", "attempted_at"),
        sa.Index("ix_login_failures_client_at", "client_key", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(sa.String(64))
    client_key: Mapped[str] = mapped_column(sa.String(64))
    attempted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

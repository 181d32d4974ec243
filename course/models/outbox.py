from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """Something that leaves the app (a mail, later a score for an LMS), written in the transaction
    that causes it and delivered by `flask course send-mail` (see course/outbox.py)."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "kind", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # which sender delivers it: "mail"
    topic: Mapped[str] = mapped_column(sa.String(40))  # why it was written, e.g. "invitation"
    module_id: Mapped[str | None] = mapped_column(sa.String(80))  # set when it is about a module
    recipient: Mapped[str] = mapped_column(sa.String(254), index=True)
    subject: Mapped[str] = mapped_column(sa.String(255))
    # Emptied once delivered or given up: a body may hold a link with a live token.
    body_text: Mapped[str] = mapped_column(sa.Text)
    # The HTML alternative of the same message (templates/mail/<name>.html); emptied with body_text.
    body_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[OutboxStatus] = mapped_column(
        sa.Enum(OutboxStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(255))  # error class and code only
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

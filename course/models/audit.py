from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class AuditEvent(db.Model):
    """A sensitive action: who did what to which record, and why. Append-only."""

    __tablename__ = "audit_events"
    # The admin log pages newest first by (at, id), by action, and per account or certificate.
    __table_args__ = (
        sa.Index("ix_audit_events_at_id", "at", "id"),
        sa.Index("ix_audit_events_action_at_id", "action", "at", "id"),
        sa.Index("ix_audit_events_subject", "subject_type", "subject_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(60))
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None]
    # Details name ids and reasons, never e-mail addresses.
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

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

    # Who the event is about, written with it by course/audit.py (record); never loaded through here.
    people: Mapped[list[AuditEventPerson]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )


class AuditEventPerson(db.Model):
    """A person an audit event is about: its subject ("user", id), or an id in its details under one of
    course.audit.USER_DETAIL_KEYS. The data export and erasure find a person's events through the index
    on (user_id, event_id) instead of reading every event's details."""

    __tablename__ = "audit_event_people"
    __table_args__ = (sa.Index("ix_audit_event_people_user_id_event_id", "user_id", "event_id"),)

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_events.id", ondelete="CASCADE"), primary_key=True)
    # No foreign key: an event may name an id that has no account (any more); erasure removes the link.
    user_id: Mapped[int] = mapped_column(primary_key=True)

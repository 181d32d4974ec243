from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class ReminderKind(enum.StrEnum):
    DUE_SOON = "due_soon"  # the due date is 2 to 7 days away
    DUE_TOMORROW = "due_tomorrow"
    OVERDUE = "overdue"
    CERTIFICATE_EXPIRING = "certificate_expiring"  # within 60 days
    TRAINER_DIGEST = "trainer_digest"  # weekly, to a trainer: who is late

    @property
    def label(self) -> str:
        return {
            "due_soon": "deadline binnen een week",
            "due_tomorrow": "deadline morgen",
            "overdue": "deadline verstreken",
            "certificate_expiring": "certificaat verloopt",
            "trainer_digest": "weekoverzicht trainer",
        }[self.value]


class ReminderSent(db.Model):
    """A reminder mailed to one person for one occasion (a due date, a certificate, a week).

    The unique key is what makes `flask course send-reminders` idempotent: a run inserts this row and
    writes the mail in one transaction, and a second run (or one running at the same time) finds the
    row taken and writes nothing."""

    __tablename__ = "reminders_sent"
    __table_args__ = (sa.UniqueConstraint("user_id", "module_id", "kind", "occasion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[ReminderKind] = mapped_column(
        sa.Enum(ReminderKind, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])
    )
    # Which occasion: the due date ("2026-12-08"), the certificate ("certificaat-12"), the week ("2026-W49").
    occasion: Mapped[str] = mapped_column(sa.String(40))
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

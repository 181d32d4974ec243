from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class LessonRead(db.Model):
    """A learner marked a lesson as read. One row per learner and lesson."""

    __tablename__ = "lesson_reads"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "lesson_id"),
        # The trainer dashboard's per-learner aggregates (lessons read, last read), from the index alone.
        sa.Index("ix_lesson_reads_user_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[str] = mapped_column(sa.String(80))
    content_version: Mapped[str] = mapped_column(sa.String(80))
    read_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class Reflection(db.Model):
    """A learner's own answer to a lesson's reflection question: private unless they share it.

    One per learner, module and lesson. `shared` is the learner's explicit choice to let the trainers
    of their groups read it; it is off until they switch it on."""

    __tablename__ = "reflections"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "module_id", "lesson_id", name="uq_reflections_user_module_lesson"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(sa.String(80))
    lesson_id: Mapped[str] = mapped_column(sa.String(80))
    text: Mapped[str] = mapped_column(sa.Text)
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

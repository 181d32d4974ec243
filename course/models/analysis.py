from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db

ALL_GROUPS = "alle"  # the scope of "Al mijn groepen"; a single group's scope is its id


class ItemAnalysisResult(db.Model):
    """The item analysis of one quiz as the trainer's page shows it for one scope (one group, or all the
    trainer's groups), computed at `computed_at` over `attempts` finished graded attempts. The page shows
    it with that moment instead of recomputing every answer on every view (docs/decisions.md)."""

    __tablename__ = "item_analysis_results"
    __table_args__ = (sa.UniqueConstraint("trainer_id", "quiz_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    quiz_id: Mapped[str] = mapped_column(sa.String(80))
    scope: Mapped[str] = mapped_column(sa.String(20))  # ALL_GROUPS or str(group_id)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int]  # finished graded attempts counted
    newest_attempt_id: Mapped[int | None]
    newest_finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # JSON text (not a JSON column): whatever is stored is parsed and checked against the quiz when read.
    result: Mapped[str] = mapped_column(sa.Text)

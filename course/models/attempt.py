from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from course.extensions import db
from course.timeutil import utcnow


class AttemptMode(enum.StrEnum):
    GRADED = "graded"  # counts for the policy (attempts, best/last score)
    PRACTICE = "practice"  # "practise my mistakes": feedback only, counts for nothing
    VOIDED = "voided"  # a graded attempt a trainer reset: kept for the record, counts for nothing


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


def _enum(cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


# At most one open graded attempt per learner and quiz, whatever the application does: a partial
# unique index (SQLite and PostgreSQL both have them). Practice and voided attempts are not covered.
ONE_OPEN_GRADED = sa.text("mode = 'graded' AND status = 'in_progress'")


class Attempt(db.Model):
    """One try at a quiz. Its questions and option order are frozen at the start."""

    __tablename__ = "attempts"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "quiz_id", "mode", "number"),
        sa.Index("ix_attempts_user_quiz", "user_id", "quiz_id"),
        # The trainer dashboard's per-learner aggregates (count, last start and finish), from the index alone.
        sa.Index("ix_attempts_user_mode_times", "user_id", "mode", "started_at", "finished_at"),
        # The item analysis page's one cheap count: attempts at a quiz finished after its stored result.
        sa.Index("ix_attempts_quiz_finished_at", "quiz_id", "finished_at"),
        sa.Index(
            "uq_attempts_one_open_graded",
            "user_id",
            "quiz_id",
            unique=True,
            sqlite_where=ONE_OPEN_GRADED,
            postgresql_where=ONE_OPEN_GRADED,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    quiz_id: Mapped[str] = mapped_column(sa.String(80))
    mode: Mapped[AttemptMode] = mapped_column(_enum(AttemptMode), default=AttemptMode.GRADED)
    number: Mapped[int]  # 1, 2, … per learner, quiz and mode
    status: Mapped[AttemptStatus] = mapped_column(_enum(AttemptStatus), default=AttemptStatus.IN_PROGRESS)
    page: Mapped[int] = mapped_column(default=0)  # vignette stages unlocked so far (0-based)
    # Bumped by every save; a form carrying an older revision comes from a stale tab.
    revision: Mapped[int] = mapped_column(default=0)
    content_version: Mapped[str] = mapped_column(sa.String(80))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    points: Mapped[float | None]
    max_points: Mapped[int | None]
    percent: Mapped[float | None]
    passed: Mapped[bool | None]

    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def is_finished(self) -> bool:
        return self.status is AttemptStatus.FINISHED


class AttemptItem(db.Model):
    """One question in an attempt: what was shown, what was answered, what it scored."""

    __tablename__ = "attempt_items"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    page: Mapped[int] = mapped_column(default=0)
    question_id: Mapped[str] = mapped_column(sa.String(120), index=True)
    vignette_id: Mapped[str | None] = mapped_column(sa.String(120))
    option_order: Mapped[list[str]] = mapped_column(sa.JSON)
    response: Mapped[Any | None] = mapped_column(sa.JSON(none_as_null=True))
    score: Mapped[float | None]
    correct: Mapped[bool | None]
    # "Markeer voor later": the learner's own reminder on an open attempt, saved with the answers.
    flagged: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    attempt: Mapped[Attempt] = relationship(back_populates="items")


class AttemptDecision(db.Model):
    """How the learner went on at a decision of a branching case: recorded once, never changed.

    The stages of the chosen route are added to the attempt's items in the same transaction."""

    __tablename__ = "attempt_decisions"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "vignette_id", "stage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    vignette_id: Mapped[str] = mapped_column(sa.String(120))
    stage_id: Mapped[str] = mapped_column(sa.String(120))  # the stage that ends with the decision
    choice: Mapped[str] = mapped_column(sa.String(120))  # the id of the stage the learner chose
    page: Mapped[int]  # the attempt page the decision closed
    decided_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

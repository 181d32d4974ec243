"""The trainer's view of a group: one row per learner, from a fixed number of queries.

Every query aggregates over the whole group, so the statement count is the same for 10
learners or 10,000 (asserted in tests, timed in bench/).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from course.catalog import Catalog
from course.extensions import db
from course.models import (
    Assignment,
    Attempt,
    AttemptGrant,
    AttemptMode,
    AttemptStatus,
    Certificate,
    Group,
    GroupMember,
    LessonRead,
    User,
)
from course.timeutil import as_utc


@dataclass
class QuizCell:
    attempts: int = 0
    best: float | None = None
    last: float | None = None
    passed: bool = False
    attempts_left: int | None = None


@dataclass
class LearnerRow:
    user_id: int
    name: str
    email: str
    register_name: str | None
    register_number: str | None
    lessons_read: int = 0
    quizzes: dict[str, QuizCell] = field(default_factory=dict)
    certificate_state: str = "none"  # none / valid / revoked / expired
    certificate_id: int | None = None
    completed_on: date | None = None
    last_activity: datetime | None = None
    due_on: date | None = None
    status: str = "niet gestart"

    @property
    def overdue(self) -> bool:
        return self.status == "te laat"


STATUS_ORDER = {"te laat": 0, "niet gestart": 1, "bezig": 2, "afgerond": 3}


def _latest(*moments: datetime | None) -> datetime | None:
    present = [as_utc(m) for m in moments if m is not None]
    return max(present) if present else None


def group_rows(group: Group, catalog: Catalog, today: date) -> list[LearnerRow]:
    members = sa.select(GroupMember.user_id).where(GroupMember.group_id == group.id).scalar_subquery()
    rows: dict[int, LearnerRow] = {}
    joined: dict[int, datetime] = {}
    for user, joined_at in db.session.execute(
        sa.select(User, GroupMember.joined_at)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
    ):
        consent = user.register_consent_at is not None
        rows[user.id] = LearnerRow(
            user_id=user.id,
            name=user.display_name,
            email=user.email,
            register_name=user.register_name if consent else None,
            register_number=user.register_number if consent else None,
        )
        joined[user.id] = joined_at
    if not rows:
        return []

    for user_id, count, last_read in db.session.execute(
        sa.select(LessonRead.user_id, sa.func.count(), sa.func.max(LessonRead.read_at))
        .where(LessonRead.user_id.in_(members))
        .group_by(LessonRead.user_id)
    ):
        rows[user_id].lessons_read = count
        rows[user_id].last_activity = _latest(rows[user_id].last_activity, last_read)

    graded = sa.and_(Attempt.user_id.in_(members), Attempt.mode == AttemptMode.GRADED)
    for user_id, quiz_id, count, best, passed, last_started, last_finished in db.session.execute(
        sa.select(
            Attempt.user_id,
            Attempt.quiz_id,
            sa.func.count(),
            sa.func.max(Attempt.percent),
            sa.func.max(sa.case((Attempt.passed.is_(True), 1), else_=0)),
            sa.func.max(Attempt.started_at),
            sa.func.max(Attempt.finished_at),
        )
        .where(graded)
        .group_by(Attempt.user_id, Attempt.quiz_id)
    ):
        rows[user_id].quizzes[quiz_id] = QuizCell(attempts=count, best=best, passed=bool(passed))
        rows[user_id].last_activity = _latest(rows[user_id].last_activity, last_started, last_finished)

    last_number = (
        sa.select(Attempt.user_id, Attempt.quiz_id, sa.func.max(Attempt.number).label("number"))
        .where(graded, Attempt.status == AttemptStatus.FINISHED)
        .group_by(Attempt.user_id, Attempt.quiz_id)
        .subquery()
    )
    for user_id, quiz_id, percent in db.session.execute(
        sa.select(Attempt.user_id, Attempt.quiz_id, Attempt.percent).join(
            last_number,
            sa.and_(
                Attempt.user_id == last_number.c.user_id,
                Attempt.quiz_id == last_number.c.quiz_id,
                Attempt.number == last_number.c.number,
                Attempt.mode == AttemptMode.GRADED,
            ),
        )
    ):
        rows[user_id].quizzes[quiz_id].last = percent

    extra: dict[tuple[int, str], int] = defaultdict(int)
    for user_id, quiz_id, granted in db.session.execute(
        sa.select(AttemptGrant.user_id, AttemptGrant.quiz_id, sa.func.sum(AttemptGrant.extra))
        .where(AttemptGrant.user_id.in_(members))
        .group_by(AttemptGrant.user_id, AttemptGrant.quiz_id)
    ):
        extra[(user_id, quiz_id)] = int(granted)

    for certificate in db.session.scalars(
        sa.select(Certificate)
        .where(Certificate.user_id.in_(members), Certificate.module_id == catalog.module.id)
        .order_by(Certificate.sequence)
    ):
        row = rows[certificate.user_id]  # the newest certificate wins
        row.certificate_state = certificate.state(today)
        row.certificate_id = certificate.id
        row.completed_on = certificate.completed_on

    group_due, personal_due = None, {}
    for assignment in db.session.scalars(
        sa.select(Assignment).where(Assignment.group_id == group.id, Assignment.module_id == catalog.module.id)
    ):
        if assignment.user_id is None:
            group_due = assignment.due_on
        else:
            personal_due[assignment.user_id] = assignment.due_on

    total_lessons = len(catalog.lessons)
    shown = [catalog.quiz(quiz_id) for quiz_id in catalog.module.completion.quizzes_passed]
    for row in rows.values():
        for quiz in shown:
            cell = row.quizzes.setdefault(quiz.id, QuizCell())
            if quiz.policy.max_attempts is not None:
                cell.attempts_left = max(0, quiz.policy.max_attempts + extra[(row.user_id, quiz.id)] - cell.attempts)
        row.last_activity = row.last_activity or as_utc(joined[row.user_id])
        row.due_on = personal_due.get(row.user_id, group_due)
        if row.certificate_state == "valid":
            row.status = "afgerond"
        elif row.due_on is not None and today > row.due_on:
            row.status = "te laat"
        elif row.lessons_read or any(cell.attempts for cell in row.quizzes.values()):
            row.status = "bezig"
        row.lessons_read = min(row.lessons_read, total_lessons)
    return list(rows.values())


SORTS = {
    "naam": lambda r: (r.name.lower(),),
    "status": lambda r: (STATUS_ORDER[r.status], r.name.lower()),
    "voortgang": lambda r: (r.lessons_read, r.name.lower()),
    "activiteit": lambda r: (r.last_activity.timestamp() if r.last_activity else 0, r.name.lower()),
    "deadline": lambda r: (r.due_on or date.max, r.name.lower()),
}


def sort_and_filter(rows: list[LearnerRow], sort: str, descending: bool, status: str, query: str) -> list[LearnerRow]:
    if status in STATUS_ORDER:
        rows = [r for r in rows if r.status == status]
    if query:
        needle = query.lower()
        rows = [r for r in rows if needle in r.name.lower() or needle in r.email]
    return sorted(rows, key=SORTS.get(sort, SORTS["naam"]), reverse=descending)

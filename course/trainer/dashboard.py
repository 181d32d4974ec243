"""The trainer's view of a group: status, counts, sorting, filtering, searching and paging in SQL.

One selectable (`_learners`) says, per member, what the dashboard shows and which status that is
on `today`: grouped subqueries over lesson reads, graded attempts and certificates, joined to the
members. The page runs a fixed number of statements over it, whatever the group's size: the counts
per status (for the summary and the charts), the rows of one page (only those rows leave the
database) and the quiz cells and granted attempts of those rows. Asserted in tests, timed in bench/.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import GenericFunction

from course.catalog import Catalog
from course.extensions import db
from course.models import (
    Assignment,
    Attempt,
    AttemptGrant,
    AttemptMode,
    AttemptStatus,
    Certificate,
    CertificateStatus,
    GroupMember,
    LessonRead,
    User,
)
from course.paging import Paging
from course.timeutil import as_utc

PAGE_SIZE = 100


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
    certificate_state: str = "none"  # none / valid / revoked / superseded / expired
    certificate_id: int | None = None
    completed_on: date | None = None
    last_activity: datetime | None = None
    due_on: date | None = None
    status: str = "niet gestart"

    @property
    def overdue(self) -> bool:
        return self.status == "te laat"


# The status sort: most urgent first. The number is what SQL computes and sorts on.
STATUS_ORDER = {"te laat": 0, "niet gestart": 1, "bezig": 2, "afgerond": 3}
STATUS_NAMES = {code: name for name, code in STATUS_ORDER.items()}
SORTS = ("status", "naam", "voortgang", "activiteit", "deadline")
DEFAULT_SORT = "status"


@dataclass(frozen=True)
class View:
    """What the trainer asked to see; every field already checked (unknown values fell back)."""

    sort: str = DEFAULT_SORT
    descending: bool = False
    status: str = ""  # "" is every status
    query: str = ""
    page: int = 1

    @classmethod
    def checked(cls, sort: str | None, order: str | None, status: str | None, query: str, page: int) -> View:
        return cls(
            sort=sort if sort in SORTS else DEFAULT_SORT,
            descending=order == "aflopend",
            status=status if status in STATUS_ORDER else "",
            query=query.strip(),
            page=page,
        )


@dataclass(frozen=True)
class Dashboard:
    rows: list[LearnerRow]
    counts: dict[str, int]  # per status, the whole group
    completed_per_day: dict[date, int]  # learners whose valid certificate is from that day
    shown: int  # learners that pass the filter and search
    paging: Paging

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class greatest(GenericFunction):  # an SQL function, named as in SQL
    """The largest of its (non-null) arguments: GREATEST on PostgreSQL, scalar max() on SQLite."""

    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


def _learners(
    group_id: int, module_id: str, today: date, group_due: date | None, lessons: int, user_id: int | None = None
) -> sa.Subquery:
    """Per member of the group (or only `user_id`): the dashboard's columns and today's status."""
    if user_id is None:
        who = sa.select(GroupMember.user_id).where(GroupMember.group_id == group_id).scalar_subquery()

        def among(column):
            return column.in_(who)
    else:

        def among(column):
            return column == user_id

    reads = (
        sa.select(LessonRead.user_id, sa.func.count().label("n"), sa.func.max(LessonRead.read_at).label("last"))
        .where(among(LessonRead.user_id))
        .group_by(LessonRead.user_id)
        .subquery("reads")
    )
    tries = (
        sa.select(
            Attempt.user_id,
            sa.func.count().label("n"),
            sa.func.max(Attempt.started_at).label("started"),
            sa.func.max(Attempt.finished_at).label("finished"),
        )
        .where(among(Attempt.user_id), Attempt.mode == AttemptMode.GRADED)
        .group_by(Attempt.user_id)
        .subquery("tries")
    )
    newest = (
        sa.select(Certificate.user_id, sa.func.max(Certificate.sequence).label("sequence"))
        .where(among(Certificate.user_id), Certificate.module_id == module_id)
        .group_by(Certificate.user_id)
        .subquery("newest")
    )
    personal = aliased(Assignment, name="personal")
    due_on = sa.type_coerce(sa.func.coalesce(personal.due_on, sa.literal(group_due, sa.Date)), sa.Date)
    valid = sa.and_(
        Certificate.status == CertificateStatus.VALID,
        sa.or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today),
    )
    read_count = sa.func.coalesce(reads.c.n, 0)
    try_count = sa.func.coalesce(tries.c.n, 0)
    status = sa.case(
        (valid, STATUS_ORDER["afgerond"]),
        (sa.and_(due_on.is_not(None), due_on < today), STATUS_ORDER["te laat"]),
        (sa.or_(read_count > 0, try_count > 0), STATUS_ORDER["bezig"]),
        else_=STATUS_ORDER["niet gestart"],
    )
    # The latest moment of any activity; each argument falls back on another one so that a missing
    # one never wins (GREATEST skips nulls, SQLite's max() does not), and on joining when there is none.
    moments = (reads.c.last, tries.c.started, tries.c.finished)
    last_activity = sa.type_coerce(
        greatest(*(sa.func.coalesce(m, *(o for o in moments if o is not m), GroupMember.joined_at) for m in moments)),
        sa.DateTime(timezone=True),
    )
    return (
        sa.select(
            User.id.label("user_id"),
            User.display_name.label("name"),
            sa.func.lower(User.display_name).label("name_key"),
            User.email,
            User.register_name,
            User.register_number,
            User.register_consent_at,
            sa.case((read_count > lessons, lessons), else_=read_count).label("lessons_read"),
            last_activity.label("last_activity"),
            Certificate.id.label("certificate_id"),
            Certificate.status.label("certificate_status"),
            Certificate.valid_until,
            Certificate.completed_on,
            due_on.label("due_on"),
            status.label("status"),
        )
        .select_from(GroupMember)
        .join(User, User.id == GroupMember.user_id)
        .outerjoin(reads, reads.c.user_id == User.id)
        .outerjoin(tries, tries.c.user_id == User.id)
        .outerjoin(newest, newest.c.user_id == User.id)
        .outerjoin(
            Certificate,
            sa.and_(
                Certificate.user_id == newest.c.user_id,
                Certificate.module_id == module_id,
                Certificate.sequence == newest.c.sequence,
            ),
        )
        .outerjoin(
            personal,
            sa.and_(personal.group_id == group_id, personal.module_id == module_id, personal.user_id == User.id),
        )
        .where(GroupMember.group_id == group_id, *(() if user_id is None else (GroupMember.user_id == user_id,)))
        .subquery("learners")
    )


def _matches(learners: sa.Subquery, query: str):
    if not query:
        return sa.true()
    needle = query.lower()
    return sa.or_(
        learners.c.name_key.contains(needle, autoescape=True), learners.c.email.contains(needle, autoescape=True)
    )


def _order(learners: sa.Subquery, sort: str, descending: bool) -> list:
    keys = {
        "naam": [],
        "status": [learners.c.status],
        "voortgang": [learners.c.lessons_read],
        "activiteit": [learners.c.last_activity],
        # No deadline sorts after every date (and first when descending).
        "deadline": [learners.c.due_on.is_(None), learners.c.due_on],
    }[sort] + [learners.c.name_key, learners.c.user_id]  # ties: by name, then by account: a stable order
    return [key.desc() if descending else key.asc() for key in keys]


def _certificate_state(status: str | None, valid_until: date | None, today: date) -> str:
    """As Certificate.state: the same rule the status column's SQL applies."""
    if status is None:
        return "none"
    if status != CertificateStatus.VALID:
        return CertificateStatus(status).value
    return "expired" if valid_until is not None and today > valid_until else "valid"


def _row(found, today: date) -> LearnerRow:
    consent = found.register_consent_at is not None
    return LearnerRow(
        user_id=found.user_id,
        name=found.name,
        email=found.email,
        register_name=found.register_name if consent else None,
        register_number=found.register_number if consent else None,
        lessons_read=found.lessons_read,
        certificate_state=_certificate_state(found.certificate_status, found.valid_until, today),
        certificate_id=found.certificate_id,
        completed_on=found.completed_on,
        last_activity=as_utc(found.last_activity),
        due_on=found.due_on,
        status=STATUS_NAMES[found.status],
    )


def _fill_quizzes(rows: list[LearnerRow], catalog: Catalog) -> None:
    """Best, last, attempts used and left on each required quiz, for these rows only (two statements)."""
    if not rows:
        return
    ids = [row.user_id for row in rows]
    shown = [catalog.quiz(quiz_id) for quiz_id in catalog.module.completion.quizzes_passed]
    graded = sa.and_(
        Attempt.user_id.in_(ids), Attempt.mode == AttemptMode.GRADED, Attempt.quiz_id.in_([q.id for q in shown])
    )
    ranked = (
        sa.select(
            Attempt.user_id,
            Attempt.quiz_id,
            Attempt.percent,
            sa.func.row_number()
            .over(partition_by=(Attempt.user_id, Attempt.quiz_id), order_by=Attempt.number.desc())
            .label("rank"),
        )
        .where(graded, Attempt.status == AttemptStatus.FINISHED)
        .subquery("ranked")
    )
    totals = (
        sa.select(
            Attempt.user_id,
            Attempt.quiz_id,
            sa.func.count().label("n"),
            sa.func.max(Attempt.percent).label("best"),
            sa.func.max(sa.case((Attempt.passed.is_(True), 1), else_=0)).label("passed"),
        )
        .where(graded)
        .group_by(Attempt.user_id, Attempt.quiz_id)
        .subquery("totals")
    )
    cells: dict[tuple[int, str], QuizCell] = {}
    for user_id, quiz_id, count, best, passed, last in db.session.execute(
        sa.select(totals, ranked.c.percent).outerjoin(
            ranked,
            sa.and_(ranked.c.user_id == totals.c.user_id, ranked.c.quiz_id == totals.c.quiz_id, ranked.c.rank == 1),
        )
    ):
        cells[(user_id, quiz_id)] = QuizCell(attempts=count, best=best, last=last, passed=bool(passed))
    extra = {
        (user_id, quiz_id): int(granted)
        for user_id, quiz_id, granted in db.session.execute(
            sa.select(AttemptGrant.user_id, AttemptGrant.quiz_id, sa.func.sum(AttemptGrant.extra))
            .where(AttemptGrant.user_id.in_(ids))
            .group_by(AttemptGrant.user_id, AttemptGrant.quiz_id)
        )
    }
    for row in rows:
        for quiz in shown:
            cell = row.quizzes[quiz.id] = cells.get((row.user_id, quiz.id), QuizCell())
            if quiz.policy.max_attempts is not None:
                limit = quiz.policy.max_attempts + extra.get((row.user_id, quiz.id), 0)
                cell.attempts_left = max(0, limit - cell.attempts)


def group_page(
    group_id: int, catalog: Catalog, today: date, group_due: date | None, view: View, per_page: int = PAGE_SIZE
) -> Dashboard:
    """One page of the group's learners as `view` asks, with the counts for the whole group."""
    learners = _learners(group_id, catalog.module.id, today, group_due, len(catalog.lessons))
    # The counts per status, per day of completion (the chart) and per match of the search, in one go.
    afgerond = learners.c.status == STATUS_ORDER["afgerond"]
    completed = sa.type_coerce(sa.case((afgerond, learners.c.completed_on)), sa.Date).label("completed")
    matches = _matches(learners, view.query)
    matched = sa.case((matches, 1), else_=0).label("matched")
    counts: Counter[str] = Counter(dict.fromkeys(STATUS_ORDER, 0))
    completed_per_day: Counter[date] = Counter()
    shown = 0
    for code, day, hit, number in db.session.execute(
        sa.select(learners.c.status, completed, matched, sa.func.count()).group_by(
            learners.c.status, completed, matched
        )
    ):
        status = STATUS_NAMES[code]
        counts[status] += number
        if day is not None:
            completed_per_day[day] += number
        if hit and view.status in ("", status):
            shown += number
    paging = Paging.of(view.page, shown, per_page)
    wanted = [matches]
    if view.status:
        wanted.append(learners.c.status == STATUS_ORDER[view.status])
    rows = [
        _row(found, today)
        for found in db.session.execute(
            sa.select(learners)
            .where(*wanted)
            .order_by(*_order(learners, view.sort, view.descending))
            .limit(paging.per_page)
            .offset(paging.offset)
        )
    ]
    _fill_quizzes(rows, catalog)
    return Dashboard(
        rows=rows, counts=dict(counts), completed_per_day=dict(completed_per_day), shown=shown, paging=paging
    )


def learner_row(group_id: int, catalog: Catalog, today: date, group_due: date | None, user_id: int) -> LearnerRow:
    """The dashboard's row of one member, from the same SQL as the group page (only that member's data)."""
    learners = _learners(group_id, catalog.module.id, today, group_due, len(catalog.lessons), user_id=user_id)
    row = _row(db.session.execute(sa.select(learners)).one(), today)
    _fill_quizzes([row], catalog)
    return row

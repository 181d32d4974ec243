"""The trainer's view of a group: status, counts, sorting, filtering, searching and paging in SQL.

What the dashboard shows per member, and its status, is stored (member_progress, with the counts per
status in group_status_counts: course/trainer/progress.py holds the rules and keeps them current).
The page runs a fixed number of statements, whatever the group's size: bring the group's rows up to
date for `today` (usually none), the counts (for the summary and the charts), the number of rows a
search finds (only with a search), the rows of one page (an index range of the sort order) and the
quiz cells and granted attempts of those rows. Asserted in tests, timed in bench/.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from course.catalog import Catalog
from course.extensions import db
from course.models import (
    Attempt,
    AttemptGrant,
    AttemptMode,
    AttemptStatus,
    CertificateStatus,
    User,
)
from course.paging import Paging
from course.timeutil import as_utc
from course.trainer import progress as progress_store
from course.trainer.progress import STATUS_NAMES, STATUS_ORDER, counts_table, progress

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
    refreshed: int = 0  # stored rows brought up to date for today (the view commits them)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _matches(query: str):
    if not query:
        return sa.true()
    needle = query.lower()
    return sa.or_(
        progress.c.name_key.contains(needle, autoescape=True), progress.c.email.contains(needle, autoescape=True)
    )


SORT_COLUMNS = ("user_id", "status", "name_key", "lessons_read", "last_activity", "deadline_key")


def _order(sort: str, descending: bool, columns=progress.c) -> list:
    keys = {
        "naam": [],
        "status": [columns.status],
        "voortgang": [columns.lessons_read],
        "activiteit": [columns.last_activity],
        # No deadline sorts after every date (and first when descending): its key is a far date.
        "deadline": [columns.deadline_key],
    }[sort] + [columns.name_key, columns.user_id]  # ties: by name, then by account: a stable order
    return [key.desc() if descending else key.asc() for key in keys]


def _certificate_state(status: str | None, valid_until: date | None, today: date) -> str:
    """As Certificate.state: the same rule the status follows."""
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


def _shown_rows(*where, page: sa.Subquery | None = None, group_id: int | None = None) -> sa.Select:
    """The stored rows with what the page shows of the account beside them (of the accounts in `page`)."""
    query = sa.select(
        progress,
        User.display_name.label("name"),
        User.register_name,
        User.register_number,
        User.register_consent_at,
    )
    if page is not None:
        # Read from the page's accounts outwards: asked for "the group's rows whose account is on the page,
        # in the sort order", SQLite walks the whole group in that sort's index to avoid sorting 100 rows.
        query = query.select_from(page).join(
            progress, sa.and_(progress.c.group_id == group_id, progress.c.user_id == page.c.user_id)
        )
    return query.join(User, User.id == progress.c.user_id).where(*where)


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


def group_page(group_id: int, catalog: Catalog, today: date, view: View, per_page: int = PAGE_SIZE) -> Dashboard:
    """One page of the group's learners as `view` asks, with the counts for the whole group.

    Reads the stored rows (course/trainer/progress.py), first brought up to date for `today`: the
    counts come from a handful of count rows, the page from an index range of its sort order."""
    refreshed = progress_store.before_reading(db.session(), today, catalog, group_id)
    counts: Counter[str] = Counter(dict.fromkeys(STATUS_ORDER, 0))
    completed_per_day: Counter[date] = Counter()
    for code, day, number in db.session.execute(
        sa.select(counts_table.c.status, counts_table.c.completed_on, sa.func.sum(counts_table.c.learners))
        .where(counts_table.c.group_id == group_id)
        .group_by(counts_table.c.status, counts_table.c.completed_on)
    ):
        if number:
            counts[STATUS_NAMES[code]] += number
            if day is not None:
                completed_per_day[day] += number
    wanted = [progress.c.group_id == group_id]
    if view.status:
        wanted.append(progress.c.status == STATUS_ORDER[view.status])
    if view.query:
        wanted.append(_matches(view.query))
        shown, paging, ids = _search_page(wanted, view, per_page)
    else:
        shown = counts[view.status] if view.status else sum(counts.values())
        paging = Paging.of(view.page, shown, per_page)
        # The page's accounts from the sort order's index alone, then their rows and names.
        page = (
            sa.select(progress.c.user_id)
            .where(*wanted)
            .order_by(*_order(view.sort, view.descending))
            .limit(paging.per_page)
            .offset(paging.offset)
            .subquery("page")
        )
    if not paging.total:
        rows = []
    elif view.query:  # the search found the page's accounts in order: no ORDER BY (see _shown_rows)
        place = {user_id: number for number, user_id in enumerate(ids)}
        found = db.session.execute(_shown_rows(progress.c.group_id == group_id, progress.c.user_id.in_(ids)))
        rows = [_row(row, today) for row in sorted(found, key=lambda row: place[row.user_id])]
    else:
        order = _order(view.sort, view.descending)
        rows = [
            _row(row, today) for row in db.session.execute(_shown_rows(page=page, group_id=group_id).order_by(*order))
        ]
    _fill_quizzes(rows, catalog)
    return Dashboard(
        rows=rows,
        counts=dict(counts),
        completed_per_day=dict(completed_per_day),
        shown=shown,
        paging=paging,
        refreshed=refreshed,
    )


def _search_page(wanted: list, view: View, per_page: int) -> tuple[int, Paging, list[int]]:
    """A search's number of matches and the accounts on the asked page, in one statement: the matches
    are found first (trigram indexes on PostgreSQL), then counted and sorted; only those, not the group."""
    found = sa.select(*(progress.c[name] for name in SORT_COLUMNS)).where(*wanted).cte("found")
    if db.session.get_bind().dialect.name == "postgresql":
        # Else the planner may walk the whole sort index hoping to meet 100 matches early.
        found = found.prefix_with("MATERIALIZED")

    def page_of(paging_page: int) -> list:
        return db.session.execute(
            sa.select(found.c.user_id, sa.func.count().over())
            .order_by(*_order(view.sort, view.descending, found.c))
            .limit(per_page)
            .offset((paging_page - 1) * per_page)
        ).all()

    hits = page_of(view.page)
    if hits:
        shown = hits[0][1]
    elif view.page > 1:  # past the last page: count, and show the last page (as Paging does)
        shown = db.session.scalar(sa.select(sa.func.count()).select_from(found)) or 0
    else:
        shown = 0
    paging = Paging.of(view.page, shown, per_page)
    if not hits and paging.total:
        hits = page_of(paging.page)
    return shown, paging, [user_id for user_id, _ in hits]


def learner_row(group_id: int, catalog: Catalog, today: date, user_id: int) -> LearnerRow:
    """The dashboard's row of one member, as the group page shows it."""
    progress_store.before_reading(db.session(), today, catalog, group_id)
    found = db.session.execute(_shown_rows(progress.c.group_id == group_id, progress.c.user_id == user_id)).one()
    row = _row(found, today)
    _fill_quizzes([row], catalog)
    return row

"""The trainer dashboard's stored progress: one member_progress row per member of a group and the
counts per status in group_status_counts, kept up to date in the transaction of every write.

The rules live once, in `learners()`: per member, what the dashboard shows and which status that is
on a day. `refresh_members` recomputes the rows of some learners (in every group they are in) from
the source tables and changes the counts by the difference; `rebuild_group` does a whole group in a
few set-based statements (the migration's backfill, a group deadline, the bench seeder, `flask course
rebuild-progress`). The session hooks below note the learners whose rows a flush changed (a read,
attempt, certificate, membership, deadline or name added, changed or deleted); the few writes that
bypass the ORM note them with `learners_changed`; `apply_pending` recomputes them once, just before
the transaction commits (and before a dashboard reads in a transaction that wrote). A status that
changes by the date alone (a deadline passes, a certificate ends) is recomputed by
`bring_up_to_date`: the page does it for its group, the hourly `flask course prune` for every group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import GenericFunction

from course.catalog import Catalog
from course.models import (
    Assignment,
    Attempt,
    AttemptMode,
    Certificate,
    CertificateStatus,
    GroupMember,
    GroupStatusCount,
    LessonRead,
    MemberProgress,
    User,
)
from course.timeutil import local_date, utcnow

# The status sort: most urgent first. The number is what SQL computes, stores and sorts on.
STATUS_ORDER = {"te laat": 0, "niet gestart": 1, "bezig": 2, "afgerond": 3}
STATUS_NAMES = {code: name for name, code in STATUS_ORDER.items()}
AFGEROND = STATUS_ORDER["afgerond"]
NO_DEADLINE = date(9999, 12, 31)  # the deadline sort key of a member without one: after every date
REFRESH_BATCH = 500  # learners per refresh: 500 ids, a few times per statement, stay under the parameter caps
REBUILD_ABOVE = 2_000  # stale rows in one group above which the group is rebuilt set-based

progress = MemberProgress.__table__
counts_table = GroupStatusCount.__table__


class greatest(GenericFunction):  # an SQL function, named as in SQL
    """The largest of its (non-null) arguments: GREATEST on PostgreSQL, scalar max() on SQLite."""

    inherit_cache = True


@compiles(greatest, "sqlite")
def _greatest_sqlite(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


class day_after(GenericFunction):
    """The day after a date."""

    type = sa.Date()
    inherit_cache = True


@compiles(day_after)
def _day_after(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} + 1)"


@compiles(day_after, "sqlite")
def _day_after_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+1 day')"


def learners(
    module_id: str, today: date, lessons: int, group_id: int | None = None, user_ids: Iterable[int] | None = None
) -> sa.Subquery:
    """Per member of the group (or of every group of `user_ids`): the dashboard's columns and its status on `today`."""
    members = []
    if group_id is not None:
        members.append(GroupMember.group_id == group_id)
    if user_ids is not None:
        members.append(GroupMember.user_id.in_(list(user_ids)))
    who = sa.select(GroupMember.user_id).where(*members).scalar_subquery()

    def among(column):
        return column.in_(who)

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
    whole = aliased(Assignment, name="whole_group")
    due_on = sa.type_coerce(sa.func.coalesce(personal.due_on, whole.due_on), sa.Date)
    is_valid = Certificate.status == CertificateStatus.VALID
    valid = sa.and_(is_valid, sa.or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today))
    read_count = sa.func.coalesce(reads.c.n, 0)
    try_count = sa.func.coalesce(tries.c.n, 0)
    status = sa.case(
        (valid, AFGEROND),
        (sa.and_(due_on.is_not(None), due_on < today), STATUS_ORDER["te laat"]),
        (sa.or_(read_count > 0, try_count > 0), STATUS_ORDER["bezig"]),
        else_=STATUS_ORDER["niet gestart"],
    )
    # The last day on which that status surely holds; the day after is when it has to be computed again.
    # "afgerond" holds until the certificate ends, whatever the deadline (none: for good); any other
    # status until the deadline, if it has not passed (passing it makes "te laat", which then stays).
    holds_until = sa.case((valid, Certificate.valid_until), (due_on >= today, due_on))
    # The latest moment of any activity; each argument falls back on another one so that a missing
    # one never wins (GREATEST skips nulls, SQLite's max() does not), and on joining when there is none.
    moments = (reads.c.last, tries.c.started, tries.c.finished)
    last_activity = sa.type_coerce(
        greatest(*(sa.func.coalesce(m, *(o for o in moments if o is not m), GroupMember.joined_at) for m in moments)),
        sa.DateTime(timezone=True),
    )
    return (
        sa.select(
            GroupMember.group_id.label("group_id"),
            User.id.label("user_id"),
            sa.func.lower(User.display_name).label("name_key"),
            User.email.label("email"),
            sa.case((read_count > lessons, lessons), else_=read_count).label("lessons_read"),
            last_activity.label("last_activity"),
            due_on.label("due_on"),
            sa.type_coerce(sa.func.coalesce(due_on, sa.literal(NO_DEADLINE, sa.Date)), sa.Date).label("deadline_key"),
            Certificate.id.label("certificate_id"),
            Certificate.status.label("certificate_status"),
            Certificate.valid_until.label("valid_until"),
            Certificate.completed_on.label("completed_on"),
            status.label("status"),
            sa.literal(today, sa.Date).label("status_on"),
            day_after(holds_until).label("changes_on"),
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
            sa.and_(
                personal.group_id == GroupMember.group_id,
                personal.module_id == module_id,
                personal.user_id == GroupMember.user_id,
            ),
        )
        .outerjoin(
            whole,
            sa.and_(whole.group_id == GroupMember.group_id, whole.module_id == module_id, whole.user_id.is_(None)),
        )
        .where(*members)
        .subquery("learners")
    )


COLUMNS = [c.name for c in progress.columns]
KEY = ("group_id", "user_id")


def _count_key(status: int, completed_on: date | None) -> tuple[int, date | None]:
    """Only "afgerond" is counted per day of completion (the chart)."""
    return (status, completed_on if status == AFGEROND else None)


def _change_counts(conn: sa.Connection, deltas: Counter) -> None:
    """Add the deltas to the counts; in a fixed order (group, status, day), so two writers never deadlock."""
    for group_id, status, day in sorted(
        (key for key, delta in deltas.items() if delta), key=lambda k: (k[0], k[1], k[2] or date.min)
    ):
        delta = deltas[(group_id, status, day)]
        same = sa.and_(
            counts_table.c.group_id == group_id,
            counts_table.c.status == status,
            counts_table.c.completed_on.is_(None) if day is None else counts_table.c.completed_on == day,
        )
        first = sa.select(sa.func.min(counts_table.c.id)).where(same).scalar_subquery()
        changed = conn.execute(
            sa.update(counts_table).where(counts_table.c.id == first).values(learners=counts_table.c.learners + delta)
        )
        if not changed.rowcount:
            conn.execute(
                sa.insert(counts_table).values(group_id=group_id, status=status, completed_on=day, learners=delta)
            )


def _catalog() -> Catalog | None:
    return current_app.extensions.get("catalog") if has_app_context() else None


def refresh_members(
    conn: sa.Connection, user_ids: Iterable[int], today: date | None = None, catalog: Catalog | None = None
) -> None:
    """Recompute the rows of these learners in every group they are (or were) in, and the counts."""
    user_ids = sorted(set(user_ids))
    catalog = catalog or _catalog()
    if not user_ids or catalog is None:
        return
    today = today or local_date(utcnow())
    # In batches, in id order (so locks are still taken in one order): each id is a bound parameter,
    # several times per statement, and SQLite (32,766) and PostgreSQL (65,535) cap their number.
    for start in range(0, len(user_ids), REFRESH_BATCH):
        _refresh_batch(conn, user_ids[start : start + REFRESH_BATCH], today, catalog)


def _refresh_batch(conn: sa.Connection, user_ids: list[int], today: date, catalog: Catalog) -> None:
    # One refresh of a learner at a time: else a lesson read committed while the learner joins a group
    # could be seen by neither (the read's refresh sees no membership yet, the join's no read yet).
    # NO KEY UPDATE: rows that merely refer to the account (a new read, an attempt) need not wait.
    accounts = sa.select(User.id).where(User.id.in_(user_ids)).order_by(User.id)
    if conn.dialect.name == "postgresql":
        accounts = accounts.with_for_update(key_share=True)
    conn.execute(accounts).all()
    # Most learners who write (a lesson read, a test finished) are in no group: one cheap look and done.
    anywhere = sa.union(
        sa.select(progress.c.group_id).where(progress.c.user_id.in_(user_ids)),
        sa.select(GroupMember.group_id).where(GroupMember.user_id.in_(user_ids)),
    )
    if conn.execute(anywhere.limit(1)).first() is None:
        return
    locked = sa.select(progress).where(progress.c.user_id.in_(user_ids)).order_by(*(progress.c[k] for k in KEY))
    if conn.dialect.name == "postgresql":
        locked = locked.with_for_update()
    old = {(row.group_id, row.user_id): row._asdict() for row in conn.execute(locked)}
    source = learners(catalog.module.id, today, len(catalog.lessons), user_ids=user_ids)
    new = {(row.group_id, row.user_id): row._asdict() for row in conn.execute(sa.select(source))}
    deltas: Counter = Counter()
    for key, row in old.items():
        deltas[(key[0], *_count_key(row["status"], row["completed_on"]))] -= 1
    for key, row in new.items():
        deltas[(key[0], *_count_key(row["status"], row["completed_on"]))] += 1
    changed = [row for key, row in sorted(new.items()) if key in old and old[key] != row]
    if changed:
        conn.execute(
            sa.update(progress)
            .where(progress.c.group_id == sa.bindparam("b_group_id"), progress.c.user_id == sa.bindparam("b_user_id"))
            .values({name: sa.bindparam(name) for name in COLUMNS if name not in KEY}),
            [{**row, "b_group_id": row["group_id"], "b_user_id": row["user_id"]} for row in changed],
        )
    added = [row for key, row in sorted(new.items()) if key not in old]
    if added:
        conn.execute(sa.insert(progress), added)
    gone = [key for key in sorted(old) if key not in new]
    for group_id, user_id in gone:
        conn.execute(sa.delete(progress).where(progress.c.group_id == group_id, progress.c.user_id == user_id))
    _change_counts(conn, deltas)


def rebuild_group(conn: sa.Connection, group_id: int, catalog: Catalog, today: date | None = None) -> None:
    """Recompute every row of a group and its counts, set-based (a few statements, whatever its size)."""
    today = today or local_date(utcnow())
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        # A group filled in bulk (a roster sync, an import) before the statistics caught up looks empty
        # to the planner, which then joins the stored rows to the computed ones in a nested loop: n x n
        # (33,000 members took over ten minutes). Hash joins cost the same whatever the statistics say.
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    try:
        _rebuild_rows(conn, group_id, catalog, today)
    finally:
        if postgresql:
            conn.exec_driver_sql("RESET enable_nestloop")


def _rebuild_rows(conn: sa.Connection, group_id: int, catalog: Catalog, today: date) -> None:
    source = learners(catalog.module.id, today, len(catalog.lessons), group_id=group_id)
    mine = sa.and_(progress.c.group_id == group_id, progress.c.user_id == source.c.user_id)
    # Rows are changed in place, not deleted and inserted again: a learner's refresh waiting on its
    # row then sees the new version (PostgreSQL follows an updated row, not a deleted one).
    conn.execute(sa.update(progress).where(mine).values({n: source.c[n] for n in COLUMNS if n not in KEY}))
    stored = sa.exists().where(progress.c.group_id == group_id, progress.c.user_id == source.c.user_id)
    conn.execute(sa.insert(progress).from_select(COLUMNS, sa.select(*(source.c[n] for n in COLUMNS)).where(~stored)))
    member = sa.exists().where(GroupMember.group_id == group_id, GroupMember.user_id == progress.c.user_id)
    conn.execute(sa.delete(progress).where(progress.c.group_id == group_id, ~member))
    conn.execute(sa.delete(counts_table).where(counts_table.c.group_id == group_id))
    day = sa.case((progress.c.status == AFGEROND, progress.c.completed_on))
    conn.execute(
        sa.insert(counts_table).from_select(
            ["group_id", "status", "completed_on", "learners"],
            sa.select(progress.c.group_id, progress.c.status, day, sa.func.count())
            .where(progress.c.group_id == group_id)
            .group_by(progress.c.group_id, progress.c.status, day),
        )
    )


def before_reading(session: Session, today: date, catalog: Catalog, group_id: int) -> int:
    """The group's rows as a reader must see them: this transaction's writes applied, then today's date."""
    apply_pending(session)
    return bring_up_to_date(session.connection(), today, catalog, group_id)


def bring_up_to_date(conn: sa.Connection, today: date, catalog: Catalog, group_id: int | None = None) -> int:
    """Recompute the rows whose status may differ on `today` from the day it was computed (usually none).

    A group deadline passing makes every member of the group stale at once: a group with more than
    REBUILD_ABOVE stale rows is rebuilt set-based (a few statements) instead of learner by learner."""
    due = sa.or_(progress.c.changes_on <= today, progress.c.status_on > today)
    where = [due] if group_id is None else [progress.c.group_id == group_id, due]
    stale = conn.execute(sa.select(progress.c.group_id, progress.c.user_id).where(*where)).all()
    per_group = Counter(group for group, _ in stale)
    rebuilt = sorted(group for group, number in per_group.items() if number > REBUILD_ABOVE)
    for group in rebuilt:
        rebuild_group(conn, group, catalog, today)
    refresh_members(conn, [user for group, user in stale if group not in rebuilt], today, catalog)
    return len({user for _, user in stale})


# --- the session hooks: every ORM write that changes what the dashboard shows ------------------------

# Per model: which columns matter (None: any insert or delete, and these changes).
WATCHED = {
    LessonRead: ("user_id", "read_at"),
    Attempt: ("user_id", "mode", "status", "started_at", "finished_at"),
    Certificate: ("user_id", "module_id", "sequence", "status", "valid_until", "completed_on"),
    GroupMember: ("user_id", "group_id", "joined_at"),
    User: ("display_name", "email"),
}


def _changed(obj, columns: tuple[str, ...]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns)


def _old_user_ids(obj) -> list[int]:
    """The learner the row belongs to, before and after the change (a certificate may lose its owner)."""
    history = sa.inspect(obj).attrs["user_id"].history
    return [uid for uid in (*history.deleted, *history.unchanged, *history.added) if uid is not None]


# The hooks only call plain functions: mutmut does not mutate a decorated function (docs/testing.md).
@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context, instances) -> None:
    drop_rows_of_deleted_accounts(session)


def drop_rows_of_deleted_accounts(session: Session) -> None:
    """A deleted account takes its rows with it (ON DELETE CASCADE), so its counts go first (needs no
    catalog: also in a session outside the app)."""
    gone = [obj.id for obj in session.deleted if isinstance(obj, User) and obj.id is not None]
    if gone:
        conn = session.connection()
        rows = conn.execute(
            sa.delete(progress)
            .where(progress.c.user_id.in_(gone))
            .returning(progress.c.group_id, progress.c.status, progress.c.completed_on)
        ).all()
        deltas: Counter = Counter()
        for group_id, status, completed_on in rows:
            deltas[(group_id, *_count_key(status, completed_on))] -= 1
        _change_counts(conn, deltas)


def _pending(session: Session) -> tuple[set[int], set[int]]:
    """The learners and the groups (a group deadline) whose rows this transaction has to recompute."""
    return session.info.setdefault("progress_users", set()), session.info.setdefault("progress_groups", set())


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    note_changed_learners(session)


def note_changed_learners(session: Session) -> None:
    """Note the learners (and the groups) whose rows the writes of this flush change."""
    users, groups = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Assignment):
            if obj.user_id is None:
                groups.add(obj.group_id)
            else:
                users.add(obj.user_id)
            continue
        for model, columns in WATCHED.items():
            if isinstance(obj, model):
                if model is User:  # a new account is in no group yet; a deleted one went before the flush
                    if obj in session.dirty and _changed(obj, columns):
                        users.add(obj.id)
                elif obj in session.new or obj in session.deleted or _changed(obj, columns):
                    users.update(_old_user_ids(obj))


def apply_pending(session: Session) -> None:
    """Recompute what this transaction's writes changed: once per transaction, however many flushes."""
    session.flush()
    users, groups = _pending(session)
    catalog = _catalog()
    if (not users and not groups) or catalog is None:
        return
    conn = session.connection()
    for group_id in sorted(groups):
        rebuild_group(conn, group_id, catalog)
    refresh_members(conn, users, catalog=catalog)
    users.clear()
    groups.clear()


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    apply_pending(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    forget_pending(session)


def forget_pending(session: Session) -> None:
    """A rolled-back transaction wrote nothing: nothing of it is left to recompute."""
    session.info.pop("progress_users", None)
    session.info.pop("progress_groups", None)


def rebuild_all(conn: sa.Connection, catalog: Catalog) -> int:
    """Every group's rows and counts from scratch, for today (`flask course rebuild-progress`)."""
    from course.models import Group

    ids = list(conn.scalars(sa.select(Group.id).order_by(Group.id)))
    for group_id in ids:
        rebuild_group(conn, group_id, catalog)
    return len(ids)


def learners_changed(*user_ids: int) -> None:
    """For writes that bypass the ORM (bulk and conditional statements): recompute these learners' rows
    before the transaction commits."""
    from course.extensions import db

    _pending(db.session())[0].update(user_ids)

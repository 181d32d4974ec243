"""The admin lists (accounts, certificates, audit log), paged, sorted and counted in SQL.

Each page costs the same few statements whatever the size of the institute: a count, the rows on
the page, and one statement per extra column (group counts; names in the audit log), never one per row.
The sort orders end on the primary key, so rows with the same name or time keep their place between pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from course.admin import paging
from course.admin.audit_log import EventLine, describe
from course.admin.paging import PAGE_SIZE, Page, counted_rows
from course.certificates import codes
from course.extensions import db
from course.models import AuditEvent, Certificate, CertificateStatus, Group, GroupMember, Role, User
from course.timeutil import LOCAL_TIME

# --- accounts -------------------------------------------------------------------------------------

USER_SORTS = {
    "naam": "Naam",
    "e-mail": "E-mailadres",
    "rol": "Rol",
    "aangemaakt": "Aangemaakt (nieuwste eerst)",
}
_USER_ORDER = {
    "naam": (User.display_name, User.id),
    "e-mail": (User.email,),  # unique
    # Role values sort as their Dutch labels do: admin (Beheerder), learner (Cursist), trainer (Trainer).
    "rol": (User.role, User.display_name, User.id),
    "aangemaakt": (User.created_at.desc(), User.id.desc()),
}
ROLE_FILTERS = {role.value: role.label for role in Role}


@dataclass(frozen=True)
class UserRow:
    user: User
    groups: int  # groups the account is a member of, plus groups it leads as a trainer


def user_page(query: str, role: str, sort: str, requested: int) -> tuple[Page, list[UserRow]]:
    criteria = []
    if query:
        # ILIKE on PostgreSQL, served by the trigram indexes on both columns; lower() LIKE on SQLite.
        criteria.append(
            sa.or_(User.display_name.icontains(query, autoescape=True), User.email.icontains(query, autoescape=True))
        )
    if role in ROLE_FILTERS:
        criteria.append(User.role == Role(role))
    page = Page.of(requested, counted_rows(sa.select(User.id).where(*criteria)))
    order = _USER_ORDER[sort]
    # The offset is walked in the sort index alone (id only); whole rows are read for this page only.
    ids = sa.select(User.id).where(*criteria).order_by(*order).offset(page.offset).limit(page.size + 1).subquery()
    users = db.session.scalars(sa.select(User).join(ids, ids.c.id == User.id).order_by(*order)).all()
    page = page.with_rows(len(users))
    users = users[: page.size]
    counts = _group_counts([u.id for u in users])
    return page, [UserRow(u, counts.get(u.id, 0)) for u in users]


def _group_counts(user_ids: list[int]) -> dict[int, int]:
    """Groups per account on the page, in one statement."""
    if not user_ids:
        return {}
    involved = sa.union_all(
        sa.select(GroupMember.user_id.label("user_id")).where(GroupMember.user_id.in_(user_ids)),
        sa.select(Group.trainer_id.label("user_id")).where(Group.trainer_id.in_(user_ids)),
    ).subquery()
    return dict(db.session.execute(sa.select(involved.c.user_id, sa.func.count()).group_by(involved.c.user_id)).all())


# --- certificates ---------------------------------------------------------------------------------

CERTIFICATE_SORTS = {"uitgegeven": "Uitgegeven (nieuwste eerst)", "naam": "Naam", "status": "Status"}
CERTIFICATE_STATES = {
    "geldig": "Geldig",
    "verlopen": "Verlopen",
    "ingetrokken": "Ingetrokken",
    "vervangen": "Vervangen",
}


@dataclass(frozen=True)
class CertificateRow:
    certificate: Certificate
    owner_name: str | None  # the account's current name (None: the account was erased)


def _state_criterion(state: str, today: date) -> sa.ColumnElement[bool]:
    expired = sa.and_(Certificate.valid_until.is_not(None), Certificate.valid_until < today)
    if state == "ingetrokken":
        return Certificate.status == CertificateStatus.REVOKED
    if state == "vervangen":
        return Certificate.status == CertificateStatus.SUPERSEDED
    valid = Certificate.status == CertificateStatus.VALID
    return sa.and_(valid, expired) if state == "verlopen" else sa.and_(valid, sa.not_(expired))


_CERTIFICATE_ORDER = {
    "uitgegeven": (Certificate.issued_at.desc(), Certificate.id.desc()),
    "naam": (Certificate.learner_name, Certificate.id),
    # The stored status (valid, superseded, revoked: the index's order read backwards), newest first
    # within each. Expired certificates are valid ones past their date; the state filter finds them.
    "status": (Certificate.status.desc(), Certificate.issued_at.desc(), Certificate.id.desc()),
}


def certificate_page(
    query: str, state: str, sort: str, requested: int, today: date
) -> tuple[Page, list[CertificateRow]]:
    criteria = []
    if query:
        code = codes.normalize(query)
        criteria.append(
            Certificate.verification_code == code
            if code
            else Certificate.learner_name.icontains(query, autoescape=True)
        )
    if state in CERTIFICATE_STATES:
        criteria.append(_state_criterion(state, today))
    page = Page.of(requested, counted_rows(sa.select(Certificate.id).where(*criteria)))
    order = _CERTIFICATE_ORDER[sort]
    ids = (
        sa.select(Certificate.id).where(*criteria).order_by(*order).offset(page.offset).limit(page.size + 1).subquery()
    )
    rows = db.session.execute(
        sa.select(Certificate, User.display_name)
        .join(ids, ids.c.id == Certificate.id)
        .outerjoin(User, User.id == Certificate.user_id)
        .order_by(*order)
    ).all()
    page = page.with_rows(len(rows))
    return page, [CertificateRow(certificate, name) for certificate, name in rows[: page.size]]


# --- audit log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    lines: list[EventLine]
    total: int  # counted up to COUNT_LIMIT + 1
    older: int | None  # the cursor for the "Oudere" link (id of the last event shown), None at the end
    newer: int | None  # the cursor for the "Nieuwere" link (id of the first event shown), None at the top

    @property
    def more(self) -> bool:
        """More than COUNT_LIMIT events match: the total shown is a lower bound."""
        return self.total > paging.COUNT_LIMIT


def local_day_start(day: date) -> datetime:
    """The UTC moment a Dutch calendar day begins (the log stores UTC)."""
    return datetime.combine(day, time(), tzinfo=LOCAL_TIME).astimezone(UTC)


def _before(at: datetime, event_id: int) -> sa.ColumnElement[bool]:
    """Events older than (at, id) in the log's order. Spelled with `at <= :at` first so an index on
    (at, id) bounds the scan on every database (row-value comparison is not typed on SQLite)."""
    return sa.and_(AuditEvent.at <= at, sa.or_(AuditEvent.at < at, AuditEvent.id < event_id))


def _after(at: datetime, event_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(AuditEvent.at >= at, sa.or_(AuditEvent.at > at, AuditEvent.id > event_id))


def audit_criteria(action: str, since: date | None, until: date | None) -> list[sa.ColumnElement[bool]]:
    criteria = []
    if action:
        criteria.append(AuditEvent.action == action)
    if since:
        criteria.append(AuditEvent.at >= local_day_start(since))
    if until:
        criteria.append(AuditEvent.at < local_day_start(until + timedelta(days=1)))
    return criteria


def audit_page(
    action: str,
    since: date | None,
    until: date | None,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """Newest first, paged by keyset: "Oudere" continues after the last event shown, "Nieuwere"
    goes back before the first. A cursor that names no event shows the newest page."""
    criteria = audit_criteria(action, since, until)
    newest_first = (AuditEvent.at.desc(), AuditEvent.id.desc())
    total = counted_rows(sa.select(AuditEvent.id).where(*criteria))
    cursor_id = older_than if older_than is not None else newer_than
    cursor_at = (
        db.session.scalar(sa.select(AuditEvent.at).where(AuditEvent.id == cursor_id)) if cursor_id is not None else None
    )

    def exists(*where: sa.ColumnElement[bool]) -> bool:
        return bool(db.session.scalar(sa.select(sa.exists().where(*criteria, *where))))

    shown: list[AuditEvent] = []
    if cursor_at is not None and older_than is not None:
        found = db.session.scalars(
            sa.select(AuditEvent)
            .where(*criteria, _before(cursor_at, older_than))
            .order_by(*newest_first)
            .limit(size + 1)
        ).all()
        shown, more_older = list(found[:size]), len(found) > size
        more_newer = bool(shown) and exists(_after(shown[0].at, shown[0].id))
    elif cursor_at is not None:
        found = db.session.scalars(
            sa.select(AuditEvent)
            .where(*criteria, _after(cursor_at, newer_than))
            .order_by(AuditEvent.at, AuditEvent.id)
            .limit(size + 1)
        ).all()
        if len(found) > size:
            shown, more_newer = list(reversed(found[:size])), True
            more_older = exists(_before(shown[-1].at, shown[-1].id))
    if not shown:
        # No cursor, a cursor that names no event, or less than a page left above it: the newest page.
        found = db.session.scalars(sa.select(AuditEvent).where(*criteria).order_by(*newest_first).limit(size + 1)).all()
        shown, more_older, more_newer = list(found[:size]), len(found) > size, False
    return AuditPage(
        lines=describe(shown),
        total=total,
        older=shown[-1].id if more_older else None,
        newer=shown[0].id if more_newer else None,
    )


def audit_actions() -> list[str]:
    """The actions in the log, for the filter: a loose index scan (one index probe per distinct
    action) instead of reading every event, which SELECT DISTINCT would do on PostgreSQL."""
    return list(
        db.session.scalars(
            sa.text(
                "WITH RECURSIVE found(action) AS ("
                " SELECT min(action) FROM audit_events"
                " UNION ALL"
                " SELECT (SELECT min(action) FROM audit_events WHERE action > found.action)"
                " FROM found WHERE found.action IS NOT NULL"
                ") SELECT action FROM found WHERE action IS NOT NULL"
            )
        )
    )

"""AVG/GDPR: a learner's data export, and erasure under the retention policy in README.

COVERAGE names, for every column that refers to a user, what export and erasure do with it;
a test fails when a new table refers to users without an entry here.

Audit events also refer to a person without a foreign key: as their subject ("user", id) or by id in
their details (course/audit.py, USER_DETAIL_KEYS). The export holds the events about the learner,
details included (a trainer's reason for an extra attempt is information about the learner), with
the acting account only as its role. Erasure keeps that the action happened (when, which action,
by whom) but removes the learner's id and the details; the subject stays only when it is a record
that outlives the erasure (a detached certificate, a group). The event then names no one, so its links
in audit_event_people (the index by person, course/audit.py) are deleted, anyone else's included: a
link left behind would still tell whom the emptied event was about.

On SQLite, deleted values would linger in free pages and in the write-ahead log: connections run with
secure_delete (course/__init__.py) and `purge_after_erasure` checkpoints the log once an erasure
is committed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from course import audit
from course.auth import verification
from course.auth.throttle import account_key
from course.extensions import db
from course.models import (
    AccountToken,
    Assignment,
    Attempt,
    AttemptDecision,
    AttemptGrant,
    AttemptItem,
    AuditEvent,
    Certificate,
    ExternalIdentity,
    Group,
    GroupMember,
    Invitation,
    ItemAnalysisResult,
    LessonRead,
    LoginFailure,
    LoginSession,
    LtiGradeLink,
    LtiScoreReport,
    OutboxMessage,
    Passkey,
    PendingRegistration,
    RecoveryCode,
    Reflection,
    ReminderSent,
    User,
)
from course.timeutil import utcnow
from course.trainer import progress, stored_analysis

log = logging.getLogger(__name__)
# Subjects of audit events that stay after the learner is erased; others (the account, an attempt) go.
SURVIVING_SUBJECTS = ("certificate", "group")
# Rows of the lists that grow with an account's history are read from the database this many at a time.
BATCH = 1000
ERASED_DETAILS = {"subject_erased": True}

# (table, column) -> (what the export holds, what erasure does)
COVERAGE: dict[tuple[str, str], tuple[str, str]] = {
    ("lesson_reads", "user_id"): ("exported", "deleted"),
    ("attempts", "user_id"): (
        "exported with their items and decisions",
        "deleted with their items and decisions",
    ),
    ("certificates", "user_id"): ("exported", "detached: stays verifiable (name, module, date), see README"),
    ("certificates", "revoked_by_id"): ("exported as revocations made", "set to null"),
    ("audit_events", "actor_id"): ("exported as actions taken", "set to null; the record of the action stays"),
    ("groups", "trainer_id"): ("exported as groups led", "erasure refused while the account leads groups"),
    ("group_members", "user_id"): ("exported", "deleted"),
    ("assignments", "user_id"): ("exported", "deleted"),
    ("member_progress", "user_id"): (
        "not exported: derived from the exported reads, attempts, certificates and memberships",
        "deleted (with the memberships)",
    ),
    ("assignments", "assigned_by_id"): ("exported as assignments made", "set to null"),
    ("attempt_grants", "user_id"): ("exported", "deleted"),
    ("attempt_grants", "granted_by_id"): ("exported as grants made", "set to null"),
    ("login_sessions", "user_id"): ("exported (device label, start, last use)", "deleted"),
    ("recovery_codes", "user_id"): ("exported as the number of unused codes (never the codes)", "deleted"),
    ("passkeys", "user_id"): ("exported (name, added, last used; not the key)", "deleted"),
    ("external_identities", "user_id"): ("exported (source, issuer, subject, linked, last used)", "deleted"),
    ("account_tokens", "user_id"): (
        "exported as the new address waiting for confirmation, if any (never a token)",
        "deleted, with mail still waiting for a new address",
    ),
    ("reminders_sent", "user_id"): ("exported (kind, occasion, when)", "deleted"),
    ("reflections", "user_id"): ("exported (module, lesson, text, shared or not, dates)", "deleted"),
    ("item_analysis_results", "trainer_id"): (
        "not exported: statistics over the trainer's groups, no one's answers",
        "deleted (and with a learner, the stored analyses that counted their attempts)",
    ),
    ("lti_grade_links", "user_id"): (
        "exported with the scores reported to the LMS",
        "deleted with their scores; scores not yet posted are dropped",
    ),
}


class ErasureRefused(Exception):
    pass


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _row(obj: Any, *fields: str) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def export_user(user: User) -> dict[str, Any]:
    """Everything the app holds about the account. The lists that grow with its history (attempts,
    events, reminders, what a trainer did) are iterators that read the database while they are
    used: write the export with `json_chunks` within the same request."""
    uid = user.id
    scalars = db.session.scalars
    certificates = scalars(sa.select(Certificate).where(Certificate.user_id == uid)).all()
    return {
        "exported_at": datetime.now().astimezone().isoformat(),
        "account": _row(
            user,
            "id",
            "email",
            "display_name",
            "role",
            "active",
            "must_change_password",
            "created_at",
            "register_name",
            "register_number",
            "register_consent_at",
            "totp_enabled_at",
            "email_verified_at",
            "reminders_enabled",
            "trainer_digest_enabled",
        ),
        "pending_email": verification.pending_address(user, utcnow()),
        "two_factor": {
            "enabled": user.two_factor_enabled,
            "unused_recovery_codes": db.session.scalar(
                sa.select(sa.func.count())
                .select_from(RecoveryCode)
                .where(RecoveryCode.user_id == uid, RecoveryCode.used_at.is_(None))
            ),
        },
        "passkeys": [
            _row(p, "name", "created_at", "last_used_at")
            for p in scalars(sa.select(Passkey).where(Passkey.user_id == uid).order_by(Passkey.id))
        ],
        "external_identities": [
            _row(e, "source", "issuer", "subject", "created_at", "last_used_at")
            for e in scalars(
                sa.select(ExternalIdentity).where(ExternalIdentity.user_id == uid).order_by(ExternalIdentity.id)
            )
        ],
        "lms_scores": [
            {
                **_row(link, "resource", "lineitem_url", "updated_at"),
                "scores": [
                    _row(r, "score_given", "score_maximum", "scored_at")
                    for r in scalars(sa.select(LtiScoreReport).where(LtiScoreReport.grade_link_id == link.id))
                ],
            }
            for link in scalars(sa.select(LtiGradeLink).where(LtiGradeLink.user_id == uid).order_by(LtiGradeLink.id))
        ],
        "sessions": [
            _row(s, "device", "created_at", "last_seen_at")
            for s in scalars(sa.select(LoginSession).where(LoginSession.user_id == uid).order_by(LoginSession.id))
        ],
        "lessons_read": [
            _row(r, "lesson_id", "content_version", "read_at")
            for r in scalars(sa.select(LessonRead).where(LessonRead.user_id == uid))
        ],
        "reflections": [
            _row(r, "module_id", "lesson_id", "text", "shared", "created_at", "updated_at")
            for r in scalars(sa.select(Reflection).where(Reflection.user_id == uid).order_by(Reflection.id))
        ],
        "attempts": _attempts(uid),
        "certificates": [
            _row(
                c,
                "id",
                "module_title",
                "content_version",
                "learner_name",
                "register_name",
                "register_number",
                "completed_on",
                "issued_at",
                "valid_until",
                "status",
                "revoked_at",
                "revoked_reason",
                "verification_code",
            )
            for c in certificates
        ],
        "group_memberships": [
            {"group": name, "joined_at": _plain(joined)}
            for name, joined in db.session.execute(
                sa.select(Group.name, GroupMember.joined_at)
                .join(Group, Group.id == GroupMember.group_id)
                .where(GroupMember.user_id == uid)
            )
        ],
        "invitations": [
            {"group": name, "status": _plain(status), "invited_at": _plain(invited), "responded_at": _plain(responded)}
            for name, status, invited, responded in db.session.execute(
                sa.select(Group.name, Invitation.status, Invitation.invited_at, Invitation.responded_at)
                .join(Group, Group.id == Invitation.group_id)
                .where(Invitation.email == user.email)
            )
        ],
        "assignments": [
            _row(a, "group_id", "module_id", "due_on", "created_at")
            for a in scalars(sa.select(Assignment).where(Assignment.user_id == uid))
        ],
        "extra_attempts_received": [
            _row(g, "quiz_id", "extra", "granted_at")
            for g in scalars(sa.select(AttemptGrant).where(AttemptGrant.user_id == uid))
        ],
        "deadlines": _deadlines(uid),
        "reminders_sent": _streamed(
            sa.select(ReminderSent.module_id, ReminderSent.kind, ReminderSent.occasion, ReminderSent.created_at)
            .where(ReminderSent.user_id == uid)
            .order_by(ReminderSent.id)
        ),
        "audit_events_about_you": _events_about(uid),
        "as_trainer_or_admin": {
            "groups_led": [
                _row(g, "id", "name", "created_at") for g in scalars(sa.select(Group).where(Group.trainer_id == uid))
            ],
            "assignments_made": _streamed(
                sa.select(Assignment.id, Assignment.group_id, Assignment.due_on).where(Assignment.assigned_by_id == uid)
            ),
            "extra_attempts_granted": _streamed(
                sa.select(AttemptGrant.id, AttemptGrant.user_id, AttemptGrant.quiz_id, AttemptGrant.granted_at).where(
                    AttemptGrant.granted_by_id == uid
                )
            ),
            "certificates_revoked": _streamed(
                sa.select(Certificate.id, Certificate.revoked_at, Certificate.revoked_reason).where(
                    Certificate.revoked_by_id == uid
                )
            ),
            "actions": _streamed(
                sa.select(AuditEvent.at, AuditEvent.action, AuditEvent.subject_type, AuditEvent.subject_id).where(
                    AuditEvent.actor_id == uid
                )
            ),
        },
    }


def _streamed(statement: sa.Select) -> Iterator[dict[str, Any]]:
    """The statement's rows as dicts (column name -> plain value), read in batches while the export is
    written: these lists grow with the account's history."""
    for row in db.session.execute(statement.execution_options(yield_per=BATCH)):
        yield {name: _plain(value) for name, value in row._mapping.items()}


ATTEMPT_FIELDS = (
    "id",
    "quiz_id",
    "mode",
    "number",
    "status",
    "started_at",
    "finished_at",
    "points",
    "max_points",
    "percent",
    "passed",
    "content_version",
)
ITEM_FIELDS = ("position", "question_id", "response", "score", "correct")
DECISION_FIELDS = ("vignette_id", "stage_id", "choice", "decided_at")


def _attempts(uid: int) -> Iterator[dict[str, Any]]:
    """The learner's attempts with their items and decisions: three queries read side by side in
    attempt order, so only one attempt's items are held at a time."""
    own = sa.select(Attempt.id).where(Attempt.user_id == uid).scalar_subquery()
    stream = {"yield_per": BATCH}
    attempts = db.session.execute(
        sa.select(*(getattr(Attempt, name) for name in ATTEMPT_FIELDS))
        .where(Attempt.user_id == uid)
        .order_by(Attempt.id)
        .execution_options(**stream)
    )
    items = _Runs(
        db.session.execute(
            sa.select(AttemptItem.attempt_id, *(getattr(AttemptItem, name) for name in ITEM_FIELDS))
            .where(AttemptItem.attempt_id.in_(own))
            .order_by(AttemptItem.attempt_id, AttemptItem.position)
            .execution_options(**stream)
        )
    )
    decisions = _Runs(
        db.session.execute(
            sa.select(AttemptDecision.attempt_id, *(getattr(AttemptDecision, name) for name in DECISION_FIELDS))
            .where(AttemptDecision.attempt_id.in_(own))
            .order_by(AttemptDecision.attempt_id, AttemptDecision.page, AttemptDecision.id)
            .execution_options(**stream)
        )
    )
    for attempt in attempts:
        yield {
            **_row(attempt, *ATTEMPT_FIELDS),
            "items": [_row(i, *ITEM_FIELDS) for i in items.take(attempt.id)],
            "decisions": [_row(d, *DECISION_FIELDS) for d in decisions.take(attempt.id)],
        }


class _Runs:
    """Rows ordered by attempt_id, handed out one attempt's run at a time."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._rows = iter(rows)
        self._head = next(self._rows, None)

    def take(self, attempt_id: int) -> list[Any]:
        # Rows of an attempt the first query did not see (started since) are passed over.
        while self._head is not None and self._head.attempt_id < attempt_id:
            self._head = next(self._rows, None)
        run = []
        while self._head is not None and self._head.attempt_id == attempt_id:
            run.append(self._head)
            self._head = next(self._rows, None)
        return run


def json_chunks(data: dict[str, Any]) -> Iterator[str]:
    """`data` as JSON text in pieces of about 64 kB, the same text as json.dumps(data, indent=2,
    ensure_ascii=False) would give, with its iterators written as lists while they are read."""
    pending: list[str] = []
    size = 0
    for piece in _json_pieces(data, 0):
        pending.append(piece)
        size += len(piece)
        if size >= JSON_CHUNK:
            yield "".join(pending)
            pending, size = [], 0
    yield "".join(pending)


JSON_CHUNK = 64 * 1024


def _json_pieces(value: Any, level: int) -> Iterator[str]:
    indent = "\n" + "  " * (level + 1)
    if isinstance(value, Iterator):
        first = True
        for element in value:
            yield ("[" if first else ",") + indent
            yield from _json_pieces(element, level + 1)
            first = False
        yield "[]" if first else "\n" + "  " * level + "]"
    elif isinstance(value, dict) and value and any(_lazy(v) for v in value.values()):
        for number, (key, element) in enumerate(value.items()):
            yield ("{" if number == 0 else ",") + indent + json.dumps(key, ensure_ascii=False) + ": "
            yield from _json_pieces(element, level + 1)
        yield "\n" + "  " * level + "}"
    else:
        # Strings in JSON text hold no line breaks (they are escaped), so indenting every line is safe.
        yield json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)


def _lazy(value: Any) -> bool:
    return isinstance(value, Iterator) or (isinstance(value, dict) and any(_lazy(v) for v in value.values()))


def _deadlines(uid: int) -> list[dict[str, Any]]:
    """Every deadline that applies to the learner: their groups' and their own. A personal deadline
    replaces the group's for that module (as on the trainer's dashboard); both are listed, marked."""
    rows = db.session.execute(
        sa.select(Assignment, Group.name)
        .join(Group, Group.id == Assignment.group_id)
        .join(GroupMember, sa.and_(GroupMember.group_id == Group.id, GroupMember.user_id == uid))
        .where(sa.or_(Assignment.user_id.is_(None), Assignment.user_id == uid))
        .order_by(Assignment.due_on, Assignment.id)
    ).all()
    personal = {(a.group_id, a.module_id) for a, _ in rows if a.user_id is not None}
    return [
        {
            "group": name,
            "module_id": a.module_id,
            "due_on": _plain(a.due_on),
            "personal": a.user_id is not None,
            "applies": a.user_id is not None or (a.group_id, a.module_id) not in personal,
        }
        for a, name in rows
    ]


def _events_about(uid: int) -> Iterator[dict[str, Any]]:
    """Audit events about the learner. Who acted is given as a role only: their account is theirs."""
    rows = db.session.execute(
        sa.select(AuditEvent.at, AuditEvent.action, AuditEvent.subject_type, AuditEvent.details, User.id, User.role)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(audit.about_user(uid))
        .order_by(AuditEvent.at, AuditEvent.id)
        .execution_options(yield_per=BATCH)
    )
    for row in rows:
        yield {
            **_row(row, "at", "action", "subject_type", "details"),
            "by": None if row.id is None else "jijzelf" if row.id == uid else _plain(row.role),
        }


def erase_user(user: User, actor: User | None) -> None:
    """Remove the account and its personal data (see COVERAGE). Flushes; the caller commits."""
    uid = user.id
    if db.session.scalar(sa.select(Group.id).where(Group.trainer_id == uid).limit(1)) is not None:
        raise ErasureRefused("Dit account leidt nog groepen. Verwijder die groepen eerst.")
    execute = db.session.execute
    execute(sa.delete(LessonRead).where(LessonRead.user_id == uid))
    # Stored item analyses counting their attempts are recomputed without them on the next view.
    stored_analysis.forget_member(db.session, uid)
    execute(sa.delete(ItemAnalysisResult).where(ItemAnalysisResult.trainer_id == uid))
    execute(sa.delete(Reflection).where(Reflection.user_id == uid))
    attempt_ids = sa.select(Attempt.id).where(Attempt.user_id == uid).scalar_subquery()
    execute(sa.delete(AttemptItem).where(AttemptItem.attempt_id.in_(attempt_ids)))
    execute(sa.delete(AttemptDecision).where(AttemptDecision.attempt_id.in_(attempt_ids)))
    execute(sa.delete(Attempt).where(Attempt.user_id == uid))
    execute(sa.update(Certificate).where(Certificate.user_id == uid).values(user_id=None))
    execute(sa.update(Certificate).where(Certificate.revoked_by_id == uid).values(revoked_by_id=None))
    execute(sa.update(AuditEvent).where(AuditEvent.actor_id == uid).values(actor_id=None))
    execute(
        sa.update(AuditEvent)
        .where(audit.about_user(uid))
        .values(
            details=ERASED_DETAILS,
            subject_id=sa.case(
                (AuditEvent.subject_type.in_(SURVIVING_SUBJECTS), AuditEvent.subject_id), else_=sa.null()
            ),
        )
    )
    # Those events now name no one: their links go too, or the index would still say whom they were about.
    audit.unlink_events_about(uid)
    execute(sa.delete(GroupMember).where(GroupMember.user_id == uid))
    execute(sa.delete(Assignment).where(Assignment.user_id == uid))
    progress.learners_changed(uid)  # out of every group's dashboard and counts
    execute(sa.update(Assignment).where(Assignment.assigned_by_id == uid).values(assigned_by_id=None))
    execute(sa.delete(AttemptGrant).where(AttemptGrant.user_id == uid))
    execute(sa.update(AttemptGrant).where(AttemptGrant.granted_by_id == uid).values(granted_by_id=None))
    execute(sa.delete(ReminderSent).where(ReminderSent.user_id == uid))
    execute(sa.delete(Invitation).where(Invitation.email == user.email))
    # Mail to the address: rows already sent hold no body; pending ones would go to a person who left.
    execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient == user.email))
    # And mail for a new address the person asked for but never confirmed (with their link tokens).
    pending = sa.select(AccountToken.email).where(AccountToken.user_id == uid).scalar_subquery()
    execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient.in_(pending)))
    execute(sa.delete(AccountToken).where(AccountToken.user_id == uid))
    execute(sa.delete(PendingRegistration).where(PendingRegistration.email == user.email))
    execute(sa.delete(LoginFailure).where(LoginFailure.account_key == account_key(user.email)))
    execute(sa.delete(LoginSession).where(LoginSession.user_id == uid))
    execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == uid))
    execute(sa.delete(Passkey).where(Passkey.user_id == uid))
    execute(sa.delete(ExternalIdentity).where(ExternalIdentity.user_id == uid))
    # Scores for the LMS: the waiting outbox rows first (they name the report), then reports and links.
    links = sa.select(LtiGradeLink.id).where(LtiGradeLink.user_id == uid).scalar_subquery()
    outbox_ids = sa.select(LtiScoreReport.outbox_id).where(LtiScoreReport.grade_link_id.in_(links)).scalar_subquery()
    execute(sa.delete(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids)))
    execute(sa.delete(LtiScoreReport).where(LtiScoreReport.grade_link_id.in_(links)))
    execute(sa.delete(LtiGradeLink).where(LtiGradeLink.user_id == uid))
    # That an account was erased, and by whom; not which: that would keep the id the erasure removes.
    audit.record(actor.id if actor and actor.id != uid else None, "user.erase", "user", None)
    db.session.delete(user)
    db.session.flush()


def purge_after_erasure() -> None:
    """After an erasure is committed: on SQLite, move the write-ahead log into the database file and
    empty it, so the erased values (in the log's older page copies) are gone from disk too.
    secure_delete has zeroed them in the database file itself."""
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL: autovacuum reclaims dead rows; see README
    with db.engine.connect() as connection:
        busy, _log_pages, _moved = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        log.warning("WAL-checkpoint na verwijdering niet afgerond (database bezet); volgt bij de volgende checkpoint")

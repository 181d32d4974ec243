"""Groups, members, invitations, enrolment codes and assignments. Flush only; views commit."""

from __future__ import annotations

import csv
import enum
import io
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from course import audit, outbox
from course.auth.accounts import normalize_email
from course.extensions import db
from course.models import (
    Assignment,
    Group,
    GroupMember,
    Invitation,
    InvitationStatus,
    OutboxMessage,
    OutboxStatus,
    Role,
    User,
)
from course.timeutil import as_utc, utcnow
from course.tokens import TokenExpired, TokenInvalid, new_token, token_hash
from course.trainer import progress, stored_analysis

log = logging.getLogger(__name__)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 5_000


def new_enrolment_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


def create_group(trainer: User, name: str) -> Group:
    group = Group(name=name.strip(), trainer_id=trainer.id, enrolment_code=new_enrolment_code())
    db.session.add(group)
    db.session.flush()
    audit.record(trainer.id, "group.create", "group", group.id)
    return group


def renew_code(group: Group, actor: User) -> None:
    group.enrolment_code = new_enrolment_code()
    audit.record(actor.id, "group.renew_code", "group", group.id)


def is_member(group_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(GroupMember.id).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
        )
        is not None
    )


def add_member(group: Group, user: User) -> bool:
    """Add `user`; False when they were already a member (also under a concurrent add)."""
    if is_member(group.id, user.id):
        return False
    # ON CONFLICT DO NOTHING rather than a SAVEPOINT: with pysqlite a SAVEPOINT taken before the
    # transaction's first write commits on release, so the all-or-nothing CSV import could not roll
    # the membership back.
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = db.session.execute(
        insert(GroupMember)
        .values(group_id=group.id, user_id=user.id)
        .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
        .returning(GroupMember.id)
    ).first()
    if added is not None:
        stored_analysis.forget_for_members(db.session, group.id, [user.id])
        progress.learners_changed(user.id)
    return added is not None


@dataclass
class InviteOutcome:
    email: str
    result: str  # "uitgenodigd", "al lid", or an error message
    ok: bool = True


def _clean_email(raw: str) -> str:
    return normalize_email(validate_email(raw.strip(), check_deliverability=False).normalized)


def _member_by_email(group: Group, email: str) -> bool:
    found = db.session.scalar(
        sa.select(GroupMember.id)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id == group.id, User.email == email)
    )
    return found is not None


def invite(group: Group, raw_email: str, actor: User) -> InviteOutcome:
    """Invite an address: an invitation and a mail with a join link, the same for every address.

    Nobody joins here: whoever holds the address joins only by accepting. Whether the address has
    an account, and which role, is neither looked at nor answered (only the group's own members,
    whom the trainer sees anyway, get "al lid"). Inviting again sends a new link."""
    try:
        email = _clean_email(raw_email)
    except EmailNotValidError:
        return InviteOutcome(raw_email.strip(), "geen geldig e-mailadres", ok=False)
    if _member_by_email(group, email):
        return InviteOutcome(email, "al lid")
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.group_id == group.id, Invitation.email == email)
    )
    if invitation is None:
        invitation = Invitation(group_id=group.id, email=email)
        db.session.add(invitation)
    elif (wait := resend_wait(invitation, utcnow())) is not None:
        minutes = "1 minuut" if wait == 1 else f"{wait} minuten"
        return InviteOutcome(email, f"de uitnodiging is net verstuurd; opnieuw kan over {minutes}", ok=False)
    send_invitation(invitation, group, actor)
    return InviteOutcome(email, "uitgenodigd")


def resend_wait(invitation: Invitation, now: datetime) -> int | None:
    """Minutes until this open invitation may be mailed again, or None when it may be now.

    One mail per INVITATION_RESEND_MINUTES: a second click, or the same CSV uploaded twice, sends no
    second mail, and a mistyped address cannot be flooded."""
    if invitation.status is not InvitationStatus.PENDING or invitation.outbox_id is None:
        return None
    last_sent = db.session.scalar(sa.select(OutboxMessage.created_at).where(OutboxMessage.id == invitation.outbox_id))
    if last_sent is None:
        return None
    ready = as_utc(last_sent) + timedelta(minutes=current_app.config["INVITATION_RESEND_MINUTES"])
    if ready <= now:
        return None
    return max(1, -(-int((ready - now).total_seconds()) // 60))


class InvitationState(enum.StrEnum):
    """What the trainer sees per invitation: the invitation's own answer, else its link, else its mail."""

    SENT = "verstuurd"  # the mail is in the outbox, not yet accepted by the mail server
    DELIVERED = "afgeleverd"  # the mail server accepted it
    FAILED = "mislukt"  # given up after the last retry
    ACCEPTED = "geaccepteerd"
    DECLINED = "afgewezen"
    EXPIRED = "verlopen"  # open, but its link no longer works (or it never had one)


def invitation_state_expression(now: datetime) -> sa.ColumnElement[str]:
    """The state as one SQL CASE over the invitation and its latest mail (outer-joined)."""
    pending = Invitation.status == InvitationStatus.PENDING
    return sa.case(
        (Invitation.status == InvitationStatus.ACCEPTED, InvitationState.ACCEPTED.value),
        (Invitation.status == InvitationStatus.DECLINED, InvitationState.DECLINED.value),
        (
            sa.and_(pending, sa.or_(Invitation.token_expires_at.is_(None), Invitation.token_expires_at < now)),
            InvitationState.EXPIRED.value,
        ),
        (OutboxMessage.status == OutboxStatus.FAILED, InvitationState.FAILED.value),
        (OutboxMessage.status == OutboxStatus.SENT, InvitationState.DELIVERED.value),
        else_=InvitationState.SENT.value,
    )


@dataclass(frozen=True)
class InvitationRow:
    id: int
    email: str
    state: InvitationState
    sent_at: datetime | None  # when its latest mail was written

    @property
    def can_resend(self) -> bool:
        return self.state is not InvitationState.ACCEPTED


def invitation_rows(group: Group, now: datetime) -> list[InvitationRow]:
    """The group's invitations with their state, in one statement."""
    rows = db.session.execute(
        sa.select(Invitation.id, Invitation.email, invitation_state_expression(now), OutboxMessage.created_at)
        .outerjoin(OutboxMessage, OutboxMessage.id == Invitation.outbox_id)
        .where(Invitation.group_id == group.id)
        .order_by(Invitation.email)
    )
    return [
        InvitationRow(id, email, InvitationState(state), as_utc(sent_at) if sent_at else None)
        for id, email, state, sent_at in rows
    ]


def send_invitation(invitation: Invitation, group: Group, actor: User) -> None:
    """(Re)open the invitation with a new single-use link and mail it; an older link stops working."""
    token, hashed = new_token()
    days = current_app.config["INVITATION_TOKEN_DAYS"]
    invitation.status = InvitationStatus.PENDING
    invitation.responded_at = None
    invitation.token_hash = hashed
    invitation.token_expires_at = utcnow() + timedelta(days=days)
    trainer = db.session.get(User, group.trainer_id)
    message = outbox.enqueue_mail(
        invitation.email,
        "invitation",
        "invitation",
        group_name=group.name,
        trainer_name=trainer.display_name if trainer else "Je trainer",
        link=outbox.public_url("enrolment.invitation_link", token=token),
        days=days,
        expires_at=invitation.token_expires_at,
    )
    invitation.outbox_id = message.id
    db.session.flush()
    audit.record(actor.id, "invitation.send", "group", group.id, invitation_id=invitation.id)


class NotForThisAccount(Exception):
    """The invitation is for another address than the signed-in account's."""


class StaffCannotJoin(Exception):
    pass


def invitation_for_token(token: str, now: datetime) -> Invitation:
    """The pending invitation this link opens; raises TokenInvalid (unknown, used, answered) or TokenExpired."""
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None or invitation.status is not InvitationStatus.PENDING:
        raise TokenInvalid
    if invitation.token_expires_at is None or as_utc(invitation.token_expires_at) < now:
        raise TokenExpired
    return invitation


def pending_invitations_for(user: User) -> list[tuple[Invitation, Group, User]]:
    """Open invitations to this account's address, with their group and trainer, for the dashboard."""
    rows = db.session.execute(
        sa.select(Invitation, Group, User)
        .join(Group, Group.id == Invitation.group_id)
        .join(User, User.id == Group.trainer_id)
        .where(Invitation.email == user.email, Invitation.status == InvitationStatus.PENDING)
        .order_by(Invitation.invited_at)
    )
    return [tuple(row) for row in rows]


def own_pending_invitation(user: User, invitation_id: int) -> Invitation | None:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.email != user.email or invitation.status is not InvitationStatus.PENDING:
        return None
    return invitation


def answer_invitation(invitation: Invitation, user: User, accept: bool, now: datetime) -> Group:
    """The invitee's explicit answer; only accepting makes them a member. Audited either way."""
    if invitation.email != user.email:
        raise NotForThisAccount
    if accept and not user.has_role(Role.LEARNER):
        raise StaffCannotJoin
    group = db.session.get(Group, invitation.group_id)
    if accept:
        add_member(group, user)
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.responded_at = now
    invitation.token_hash = None
    invitation.token_expires_at = None
    db.session.flush()
    audit.record(
        user.id, "invitation.accept" if accept else "invitation.decline", "group", group.id, invitation_id=invitation.id
    )
    return group


class CsvRejected(Exception):
    """The file as a whole cannot be used; nothing was changed."""

    def __init__(self, message: str, report: list[InviteOutcome] | None = None) -> None:
        super().__init__(message)
        self.report = report or []


def read_invite_csv(data: bytes) -> list[str]:
    """Addresses from an uploaded CSV with an 'email' (or 'e-mail') column. Rejects the whole file
    with a per-row report when any row is wrong, so a bad file changes nothing."""
    if len(data) > MAX_CSV_BYTES:
        raise CsvRejected("Het bestand is groter dan 1 MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRejected("Het bestand is geen UTF-8-tekst. Sla het op als ‘CSV UTF-8’.") from None
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    # Keep each row's line number in the file, so the report names the line the trainer sees.
    try:
        numbered = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error:  # e.g. a field longer than the csv module's limit (128 KiB)
        raise CsvRejected("Het bestand is geen leesbaar CSV-bestand.") from None
    rows = [row for _, row in numbered]
    if not rows:
        raise CsvRejected("Het bestand is leeg.")
    header = [cell.strip().lower() for cell in rows[0]]
    column = next(
        (i for i, name in enumerate(header) if name in {"email", "e-mail", "e-mailadres", "emailadres"}), None
    )
    if column is None:
        raise CsvRejected("De eerste regel moet een kolom ‘email’ bevatten.")
    if len(rows) - 1 > MAX_CSV_ROWS:
        raise CsvRejected(f"Het bestand heeft meer dan {MAX_CSV_ROWS} regels.")
    report: list[InviteOutcome] = []
    emails: list[str] = []
    seen: set[str] = set()
    for line_number, row in numbered[1:]:
        raw = row[column].strip() if column < len(row) else ""
        try:
            email = _clean_email(raw)
        except EmailNotValidError:
            report.append(InviteOutcome(raw or "(leeg)", f"regel {line_number}: geen geldig e-mailadres", ok=False))
            continue
        if email in seen:
            report.append(InviteOutcome(email, f"regel {line_number}: staat dubbel in het bestand", ok=False))
            continue
        seen.add(email)
        emails.append(email)
        report.append(InviteOutcome(email, f"regel {line_number}: in orde"))
    if not emails and not report:
        raise CsvRejected("Het bestand bevat geen e-mailadressen.")
    if any(not outcome.ok for outcome in report):
        raise CsvRejected("Het bestand bevat fouten; er is niemand toegevoegd of uitgenodigd.", report)
    return emails


def join_by_code(user: User, code: str) -> Group | None:
    cleaned = "".join(c for c in (code or "").upper() if c.isalnum())
    if not cleaned:
        return None
    group = db.session.scalar(sa.select(Group).where(Group.enrolment_code == cleaned))
    if group is None:
        return None
    add_member(group, user)
    return group


def assign(group: Group, module_id: str, due_on: date, actor: User, learner: User | None = None) -> Assignment:
    """Assign the module to the group (or one learner in it); a second assignment updates the date."""
    existing = db.session.scalar(
        sa.select(Assignment).where(
            Assignment.group_id == group.id,
            Assignment.module_id == module_id,
            Assignment.user_id.is_(None) if learner is None else Assignment.user_id == learner.id,
        )
    )
    if existing is None:
        existing = Assignment(group_id=group.id, module_id=module_id, user_id=learner.id if learner else None)
        db.session.add(existing)
    existing.due_on = due_on
    existing.assigned_by_id = actor.id
    db.session.flush()
    # A deadline for the whole group names no learner (rather than "learner_id: None").
    about = {"learner_id": learner.id} if learner else {}
    audit.record(actor.id, "assignment.set", "group", group.id, **about, due_on=due_on.isoformat())
    return existing


def saved_due_on(group: Group, module_id: str, learner: User | None = None) -> date | None:
    """The deadline saved for the whole group (or for one learner in it), to show in its form."""
    return db.session.scalar(
        sa.select(Assignment.due_on).where(
            Assignment.group_id == group.id,
            Assignment.module_id == module_id,
            Assignment.user_id.is_(None) if learner is None else Assignment.user_id == learner.id,
        )
    )


def assignments_for(user_id: int, module_id: str) -> list[tuple[Assignment, Group, User]]:
    """Assignments that apply to a learner: to their groups, or to them personally."""
    rows = db.session.execute(
        sa.select(Assignment, Group, User)
        .join(Group, Group.id == Assignment.group_id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .join(User, User.id == Group.trainer_id)
        .where(
            GroupMember.user_id == user_id,
            Assignment.module_id == module_id,
            sa.or_(Assignment.user_id.is_(None), Assignment.user_id == user_id),
        )
        .order_by(Assignment.due_on)
    )
    found = [tuple(row) for row in rows]
    # A personal deadline replaces the group's deadline for this learner, as on the trainer's dashboard.
    personal = {assignment.group_id for assignment, _, _ in found if assignment.user_id is not None}
    return [row for row in found if row[0].user_id is not None or row[0].group_id not in personal]

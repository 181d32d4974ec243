"""Reminder mails, written by `flask course send-reminders` (run daily from cron or a timer).

What is due is decided from the database at the Dutch date of `now`:
- a learner who has not finished the module (no current certificate) and has a due date from a group
  assignment (a personal due date replaces the group's): a reminder 7 to 2 days before it, one the day
  before, and an overdue notice in the first OVERDUE_DAYS days after it;
- a learner whose newest certificate expires within CERTIFICATE_NOTICE_DAYS: a notice with a link to
  renew;
- a trainer with late learners in their groups: an overview once a week (ISO week), names and due
  dates only.

Each reminder is at most once per person, kind and occasion (due date, certificate, week): the
reminders_sent row with that unique key is inserted in the same transaction as the outbox row, so a
second run, or one running at the same moment, finds the key taken and writes nothing. People who
switched reminders off on their account page (or are deactivated) get none.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from course import outbox
from course.catalog import Catalog
from course.extensions import db
from course.models import (
    Assignment,
    Certificate,
    CertificateStatus,
    Group,
    GroupMember,
    ReminderKind,
    ReminderSent,
    Role,
    User,
)
from course.timeutil import local_date

log = logging.getLogger(__name__)

DUE_SOON_DAYS = 7
OVERDUE_DAYS = 30
CERTIFICATE_NOTICE_DAYS = 60


@dataclass(frozen=True)
class Reminder:
    """One reminder to write: to whom, which kind and occasion, and what its mail says."""

    user_id: int
    email: str
    kind: ReminderKind
    occasion: str
    template: str
    context: dict[str, object] = field(hash=False, compare=False)


@dataclass
class ReminderReport:
    written: dict[ReminderKind, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return total_written(self)


def total_written(report: ReminderReport) -> int:
    # A plain function beside the property: mutmut skips decorated functions.
    return sum(report.written.values())


def _deadlines(module_id: str, today: date) -> sa.Select:
    """Every learner in a group who has not finished, with the group, its trainer and the due date that
    applies to them there: their own assignment's, else the group's."""
    group_wide, personal = aliased(Assignment), aliased(Assignment)
    due_on = sa.func.coalesce(personal.due_on, group_wide.due_on)
    finished = sa.exists().where(
        Certificate.user_id == GroupMember.user_id,
        Certificate.module_id == module_id,
        Certificate.status == CertificateStatus.VALID,
        sa.or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today),
    )
    return (
        sa.select(
            User.id.label("user_id"),
            User.email.label("email"),
            User.display_name.label("learner_name"),
            User.reminders_enabled.label("reminders_enabled"),
            Group.id.label("group_id"),
            Group.name.label("group_name"),
            Group.trainer_id.label("trainer_id"),
            due_on.label("due_on"),
        )
        .select_from(GroupMember)
        .join(User, User.id == GroupMember.user_id)
        .join(Group, Group.id == GroupMember.group_id)
        .outerjoin(
            group_wide,
            sa.and_(
                group_wide.group_id == GroupMember.group_id,
                group_wide.user_id.is_(None),
                group_wide.module_id == module_id,
            ),
        )
        .outerjoin(
            personal,
            sa.and_(
                personal.group_id == GroupMember.group_id,
                personal.user_id == GroupMember.user_id,
                personal.module_id == module_id,
            ),
        )
        .where(due_on.is_not(None), User.active.is_(True), User.role == Role.LEARNER, ~finished)
    )


def learner_deadline_reminders(catalog: Catalog, today: date) -> list[Reminder]:
    module = catalog.module
    deadlines = _deadlines(module.id, today).subquery()
    rows = db.session.execute(
        sa.select(deadlines.c.user_id, deadlines.c.email, deadlines.c.due_on)
        .where(
            deadlines.c.reminders_enabled.is_(True),
            deadlines.c.due_on >= today - timedelta(days=OVERDUE_DAYS),
            deadlines.c.due_on <= today + timedelta(days=DUE_SOON_DAYS),
        )
        .distinct()
    ).all()
    reminders = []
    links = {"link": outbox.public_url("lessons.index"), "settings_link": outbox.public_url("auth.profile")}
    for user_id, email, due_on in rows:
        days = (due_on - today).days
        if 2 <= days <= DUE_SOON_DAYS:
            kind = ReminderKind.DUE_SOON
        elif days == 1:
            kind = ReminderKind.DUE_TOMORROW
        elif days < 0:
            kind = ReminderKind.OVERDUE
        else:
            continue  # due today: yesterday's reminder said "tomorrow"
        template = "reminder_overdue" if kind is ReminderKind.OVERDUE else "reminder_due"
        context = {"module_title": module.title, "due_on": due_on, "days": days, **links}
        reminders.append(Reminder(user_id, email, kind, due_on.isoformat(), template, context))
    return reminders


def certificate_reminders(catalog: Catalog, today: date) -> list[Reminder]:
    """The newest certificate of each learner, still valid and ending within the notice period."""
    module = catalog.module
    newer = aliased(Certificate)
    rows = db.session.execute(
        sa.select(Certificate.id, Certificate.valid_until, User.id, User.email)
        .join(User, User.id == Certificate.user_id)
        .where(
            Certificate.module_id == module.id,
            Certificate.status == CertificateStatus.VALID,
            Certificate.valid_until >= today,
            Certificate.valid_until <= today + timedelta(days=CERTIFICATE_NOTICE_DAYS),
            User.active.is_(True),
            User.reminders_enabled.is_(True),
            ~sa.exists().where(
                newer.user_id == Certificate.user_id,
                newer.module_id == Certificate.module_id,
                newer.sequence > Certificate.sequence,
            ),
        )
    ).all()
    links = {
        "link": outbox.public_url("lessons.index"),
        "certificates_link": outbox.public_url("certificates.mine"),
        "settings_link": outbox.public_url("auth.profile"),
    }
    return [
        Reminder(
            user_id,
            email,
            ReminderKind.CERTIFICATE_EXPIRING,
            f"certificaat-{certificate_id}",
            "certificate_expiring",
            {"module_title": module.title, "valid_until": valid_until, **links},
        )
        for certificate_id, valid_until, user_id, email in rows
    ]


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def trainer_digests(catalog: Catalog, today: date) -> list[Reminder]:
    """Per trainer, the late learners of their groups by group: display name and due date, nothing else."""
    module = catalog.module
    deadlines = _deadlines(module.id, today).subquery()
    trainer = aliased(User)
    rows = db.session.execute(
        sa.select(
            trainer.id,
            trainer.email,
            deadlines.c.group_id,
            deadlines.c.group_name,
            deadlines.c.learner_name,
            deadlines.c.due_on,
        )
        .join(trainer, trainer.id == deadlines.c.trainer_id)
        .where(
            deadlines.c.due_on < today,
            trainer.active.is_(True),
            trainer.trainer_digest_enabled.is_(True),
            trainer.role.in_([Role.TRAINER, Role.ADMIN]),
        )
        .order_by(trainer.id, deadlines.c.group_name, deadlines.c.group_id, deadlines.c.learner_name)
    ).all()
    by_trainer: dict[tuple[int, str], dict[tuple[int, str], list[tuple[str, str]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for trainer_id, trainer_email, group_id, group_name, learner_name, due_on in rows:
        by_trainer[(trainer_id, trainer_email)][(group_id, group_name)].append((learner_name, due_on))
    week = iso_week(today)
    digests = []
    for (trainer_id, trainer_email), groups in by_trainer.items():
        listed = [
            {"name": name, "link": outbox.public_url("trainer.group", group_id=group_id), "late": late}
            for (group_id, name), late in groups.items()
        ]
        context = {
            "module_title": module.title,
            "groups": listed,
            "late_count": sum(len(group["late"]) for group in listed),
            "settings_link": outbox.public_url("auth.profile"),
        }
        digests.append(
            Reminder(trainer_id, trainer_email, ReminderKind.TRAINER_DIGEST, week, "trainer_digest", context)
        )
    return digests


def _insert_once(reminder: Reminder, module_id: str, now: datetime) -> int | None:
    """Record the reminder; None when this person already had it for this occasion (also concurrently)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return db.session.execute(
        insert(ReminderSent)
        .values(
            user_id=reminder.user_id,
            module_id=module_id,
            kind=reminder.kind,
            occasion=reminder.occasion,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "module_id", "kind", "occasion"])
        .returning(ReminderSent.id)
    ).scalar()


def already_sent(module_id: str, now: datetime) -> set[tuple[int, ReminderKind, str]]:
    """Reminders recorded recently enough to matter today (the longest window, a certificate's, is 60
    days), so this stays small as the table grows. Only a shortcut: the unique key decides."""
    since = now - timedelta(days=CERTIFICATE_NOTICE_DAYS + DUE_SOON_DAYS + OVERDUE_DAYS)
    return {
        (user_id, kind, occasion)
        for user_id, kind, occasion in db.session.execute(
            sa.select(ReminderSent.user_id, ReminderSent.kind, ReminderSent.occasion).where(
                ReminderSent.module_id == module_id, ReminderSent.created_at >= since
            )
        )
    }


def send_reminders(catalog: Catalog, now: datetime) -> ReminderReport:
    """Write every reminder due at the Dutch date of `now` to the outbox, each once. Commits per reminder."""
    today = local_date(now)
    module_id = catalog.module.id
    candidates = [
        *learner_deadline_reminders(catalog, today),
        *certificate_reminders(catalog, today),
        *trainer_digests(catalog, today),
    ]
    done = already_sent(module_id, now)
    # End the reading transaction before writing: on SQLite a transaction that read and then writes
    # after another writer committed fails at once instead of waiting its turn.
    db.session.rollback()
    report = ReminderReport()
    for reminder in candidates:
        if (reminder.user_id, reminder.kind, reminder.occasion) in done:
            continue
        reminder_id = _insert_once(reminder, module_id, now)
        if reminder_id is None:  # another run took it a moment ago
            db.session.rollback()
            continue
        message = outbox.enqueue_mail(
            reminder.email,
            reminder.template,
            f"reminder.{reminder.kind.value}",
            module_id=module_id,
            **reminder.context,
        )
        db.session.execute(sa.update(ReminderSent).where(ReminderSent.id == reminder_id).values(outbox_id=message.id))
        db.session.commit()
        report.written[reminder.kind] += 1
    log.info("Herinneringen: %s klaargezet voor %s", report.total, today.isoformat())
    return report

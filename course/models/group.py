from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class Group(db.Model):
    """A trainer's group of learners (a class, a team, a cohort)."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    trainer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Learners who know the code join the group themselves; the trainer can renew or clear it.
    enrolment_code: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class GroupMember(db.Model):
    __tablename__ = "group_members"
    __table_args__ = (sa.UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"pending": "uitgenodigd", "accepted": "geaccepteerd", "declined": "afgewezen"}[self.value]


class Invitation(db.Model):
    """An address invited to a group. Whoever holds that address joins only by accepting: through
    the mailed link (token kept as a hash) or the list of invitations on their dashboard."""

    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("group_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    invited_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    status: Mapped[InvitationStatus] = mapped_column(
        sa.Enum(InvitationStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=InvitationStatus.PENDING,
        server_default=InvitationStatus.PENDING.value,
    )
    # The join link: cleared when the invitation is answered, replaced when it is sent again.
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The latest mail for it, so the trainer sees whether it went out.
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id", ondelete="SET NULL"))


class Assignment(db.Model):
    """The module assigned to a whole group or to one learner in it, with a due date."""

    __tablename__ = "assignments"
    __table_args__ = (sa.UniqueConstraint("group_id", "user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(sa.String(80))
    due_on: Mapped[date]
    # Indexed: the data export lists what an account did, and erasure clears it (course/privacy.py).
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class AttemptGrant(db.Model):
    """Extra attempts a trainer granted a learner on a quiz (audited)."""

    __tablename__ = "attempt_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    quiz_id: Mapped[str] = mapped_column(sa.String(80))
    extra: Mapped[int] = mapped_column(default=1)
    # Indexed: the data export lists what an account did, and erasure clears it (course/privacy.py).
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    granted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


# The trainer dashboard's sort orders, each with its index: (group, [status,] key, name, account).
PROGRESS_SORT_KEYS = {
    "naam": (),
    "voortgang": ("lessons_read",),
    "activiteit": ("last_activity",),
    "deadline": ("deadline_key",),
}


def _progress_indexes() -> tuple[sa.Index, ...]:
    indexes = [sa.Index("ix_member_progress_status", "group_id", "status", "name_key", "user_id")]
    for sort, key in PROGRESS_SORT_KEYS.items():
        if key:
            indexes.append(sa.Index(f"ix_member_progress_{sort}", "group_id", *key, "name_key", "user_id"))
            indexes.append(
                sa.Index(f"ix_member_progress_status_{sort}", "group_id", "status", *key, "name_key", "user_id")
            )
        else:
            indexes.append(sa.Index(f"ix_member_progress_{sort}", "group_id", "name_key", "user_id"))
    indexes.append(sa.Index("ix_member_progress_changes_on", "group_id", "changes_on"))
    indexes.append(sa.Index("ix_member_progress_status_on", "group_id", "status_on"))
    indexes.append(sa.Index("ix_member_progress_user_id", "user_id"))  # a learner's rows, in every group
    # A search for part of a name or address: trigram indexes on PostgreSQL (plain ones on SQLite).
    for column in ("name_key", "email"):
        indexes.append(
            sa.Index(
                f"ix_member_progress_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
        )
    return tuple(indexes)


class MemberProgress(db.Model):
    """What the trainer dashboard shows of one member of a group, kept up to date by every write that
    changes it (course/trainer/progress.py), so that a page reads an index range instead of
    aggregating every member's reads, attempts and certificates."""

    __tablename__ = "member_progress"
    __table_args__ = _progress_indexes()

    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    name_key: Mapped[str] = mapped_column(sa.String(120))  # the display name in lower case: the name sort
    email: Mapped[str] = mapped_column(sa.String(254))  # for the search, without reading the accounts
    lessons_read: Mapped[int]  # at most the number of lessons
    last_activity: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))  # joining, without any
    due_on: Mapped[date | None]  # personal deadline, else the group's
    deadline_key: Mapped[date]  # due_on, or a far date when there is none (sorts last)
    certificate_id: Mapped[int | None]  # the newest certificate for the module, whatever its state
    certificate_status: Mapped[str | None] = mapped_column(sa.String(16))
    valid_until: Mapped[date | None]
    completed_on: Mapped[date | None]
    status: Mapped[int] = mapped_column(sa.SmallInteger)  # dashboard.STATUS_ORDER, as of status_on
    status_on: Mapped[date]
    # The first day on which the status changes without any write (a deadline passes, a certificate ends).
    changes_on: Mapped[date | None]


class GroupStatusCount(db.Model):
    """How many members of a group have a status (for "afgerond": per day of completion, the chart),
    changed by deltas as member_progress rows change. A key may have more than one row (two first
    inserts at once); readers add them up."""

    __tablename__ = "group_status_counts"
    __table_args__ = (sa.Index("ix_group_status_counts_key", "group_id", "status", "completed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"))
    status: Mapped[int] = mapped_column(sa.SmallInteger)
    completed_on: Mapped[date | None]
    learners: Mapped[int]

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

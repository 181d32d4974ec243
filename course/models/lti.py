from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class LtiPlatform(db.Model):
    """An LMS registered to launch this tool over LTI 1.3 (one issuer + client id; course/lti/)."""

    __tablename__ = "lti_platforms"
    __table_args__ = (sa.UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_issuer_client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    issuer: Mapped[str] = mapped_column(sa.String(255))
    client_id: Mapped[str] = mapped_column(sa.String(255))
    # One deployment id per line: a platform may place the tool more than once under one registration.
    deployment_ids: Mapped[str] = mapped_column(sa.Text)
    auth_login_url: Mapped[str] = mapped_column(sa.String(500))
    auth_token_url: Mapped[str] = mapped_column(sa.String(500))
    key_set_url: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    @property
    def deployments(self) -> list[str]:
        return [line.strip() for line in self.deployment_ids.splitlines() if line.strip()]


class LtiLaunchValue(db.Model):
    """Short-lived launch state (nonces, launch data) shared by every worker; expired rows are ignored
    and removed by `flask course prune`."""

    __tablename__ = "lti_launch_values"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[object] = mapped_column(sa.JSON)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)


class LtiGradeLink(db.Model):
    """Where a learner's score for one placed resource goes: the platform's line item (AGS), as the
    launch told us. One per learner, platform and resource link."""

    __tablename__ = "lti_grade_links"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "platform_id", "resource_link_id", name="uq_lti_grade_links_user_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(sa.String(80))
    resource_link_id: Mapped[str] = mapped_column(sa.String(255))
    resource: Mapped[str] = mapped_column(sa.String(120))  # "module" or "quiz:<id>"
    platform_user_id: Mapped[str] = mapped_column(sa.String(255))  # the launch's `sub`: AGS userId
    lineitem_url: Mapped[str | None] = mapped_column(sa.String(500))
    lineitems_url: Mapped[str | None] = mapped_column(sa.String(500))
    scopes: Mapped[list] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class LtiScoreReport(db.Model):
    """One score for one grade link, delivered through the outbox (kind "lti_score")."""

    __tablename__ = "lti_score_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_link_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_grade_links.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(sa.String(80))
    score_given: Mapped[float] = mapped_column(sa.Float)
    score_maximum: Mapped[float] = mapped_column(sa.Float)
    activity_progress: Mapped[str] = mapped_column(sa.String(20))
    grading_progress: Mapped[str] = mapped_column(sa.String(20))
    scored_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id", ondelete="SET NULL"))


class LtiContext(db.Model):
    """An LMS course that launched us: its group here, and where its roster is read (NRPS)."""

    __tablename__ = "lti_contexts"
    __table_args__ = (sa.UniqueConstraint("platform_id", "context_id", name="uq_lti_contexts_platform_context"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    # Made at the first Instructor launch (a group needs a trainer); until then learners wait here.
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("groups.id", ondelete="SET NULL"))
    memberships_url: Mapped[str | None] = mapped_column(sa.String(500))
    synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

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

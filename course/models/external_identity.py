from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class ExternalIdentity(db.Model):
    """An account somewhere else that signs in as this user: an LMS launching us over LTI 1.3, or an
    organisation's OpenID Connect provider. Linked by (issuer, subject), the identifiers the other system
    guarantees stable and unique; never by e-mail address, which can change hands."""

    __tablename__ = "external_identities"
    __table_args__ = (
        sa.UniqueConstraint("source", "issuer", "subject", name="uq_external_identities_source_issuer_subject"),
        sa.Index("ix_external_identities_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.String(16))  # "lti" or "oidc"
    issuer: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

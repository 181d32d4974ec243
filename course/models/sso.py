from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import utcnow


class OidcProvider(db.Model):
    """An organisation's OpenID Connect provider that people may sign in with (course/sso).

    The client secret is stored encrypted (Fernet, key derived from SECRET_KEY), or left empty here and
    read from the environment variable OIDC_CLIENT_SECRET_<SLUG>. Role mapping: when `role_claim` is set,
    a sign-in whose claim holds one of the trainer or admin values gets that role; otherwise learner."""

    __tablename__ = "oidc_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    discovery_url: Mapped[str] = mapped_column(sa.String(500))
    client_id: Mapped[str] = mapped_column(sa.String(255))
    client_secret_encrypted: Mapped[str | None] = mapped_column(sa.String(1000))
    role_claim: Mapped[str | None] = mapped_column(sa.String(64))
    trainer_values: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    admin_values: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class PasswordlessDomain(db.Model):
    """An e-mail domain whose people sign in only through their organisation's provider: password
    sign-in, password reset and registration are refused for addresses in it."""

    __tablename__ = "passwordless_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(253), unique=True)
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("oidc_providers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

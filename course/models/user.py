from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from course.extensions import db
from course.timeutil import utcnow


class Role(enum.StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"learner": "Cursist", "trainer": "Trainer", "admin": "Beheerder"}[self.value]


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # The admin user list, sorted by name, by role then name, or newest first (tie-break on id).
    __table_args__ = (
        sa.Index("ix_users_display_name_id", "display_name", "id"),
        sa.Index("ix_users_role_display_name_id", "role", "display_name", "id"),
        sa.Index("ix_users_created_at_id", "created_at", "id"),
        # Searching for part of a name or address (ILIKE '%term%'): trigram indexes on PostgreSQL
        # (pg_trgm); on SQLite the same names are plain indexes (docs/decisions.md, admin lists at size).
        sa.Index(
            "ix_users_display_name_trgm",
            "display_name",
            postgresql_using="gin",
            postgresql_ops={"display_name": "gin_trgm_ops"},
        ),
        sa.Index("ix_users_email_trgm", "email", postgresql_using="gin", postgresql_ops={"email": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=Role.LEARNER,
    )
    active: Mapped[bool] = mapped_column(default=True)
    # Set when an admin hands out a temporary password: the next sign-in must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Professional register for accreditation (SKJ, BIG, V&VN), kept only with consent.
    register_name: Mapped[str | None] = mapped_column(sa.String(40))
    register_number: Mapped[str | None] = mapped_column(sa.String(40))
    register_consent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # When the address was last proved to reach this person (a mailed link followed). Learning works
    # without it; a certificate is issued only to a verified address (course/certificates/issuing.py).
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    # Two-step sign-in (TOTP): the secret is encrypted with a key derived from SECRET_KEY
    # (course/auth/two_factor.py); the last accepted time step makes every code single-use.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    # Reminder mails (`flask course send-reminders`), each switched off on the account page: deadlines
    # and expiring certificates for a learner, the weekly overview of late learners for a trainer.
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    trainer_digest_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    # Set by the session loader for the request's own session (not a column): Flask-Login keeps
    # get_id() in the cookie, and that must be the session token, not the account id.
    login_token = None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

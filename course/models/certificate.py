from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from course.extensions import db
from course.timeutil import as_utc, utcnow


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    # Replaced by a reissue (corrected name or register number): not withdrawn, but no longer the current one.
    SUPERSEDED = "superseded"


class Certificate(db.Model):
    """An issued certificate: a snapshot of what was true at issue time, never recomputed."""

    __tablename__ = "certificates"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "module_id", "sequence"),
        # The admin certificate list: newest first, by name, or by state (tie-break on id).
        sa.Index("ix_certificates_issued_at_id", "issued_at", "id"),
        sa.Index("ix_certificates_learner_name_id", "learner_name", "id"),
        # valid_until last: the state filters (expired or not) are checked in the index, not the table.
        sa.Index("ix_certificates_status_issued_at_id", "status", "issued_at", "id", "valid_until"),
        sa.Index("ix_certificates_status_valid_until", "status", "valid_until"),  # expired or not
        sa.Index(
            "ix_certificates_learner_name_trgm",
            "learner_name",
            postgresql_using="gin",
            postgresql_ops={"learner_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable: after account erasure the certificate stays verifiable (see README, privacy).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    module_id: Mapped[str] = mapped_column(sa.String(80))
    sequence: Mapped[int]  # 1 for the first certificate of this learner and module, 2 after a reissue…
    verification_code: Mapped[str] = mapped_column(sa.String(64), unique=True)

    learner_name: Mapped[str] = mapped_column(sa.String(120))
    register_name: Mapped[str | None] = mapped_column(sa.String(40))
    register_number: Mapped[str | None] = mapped_column(sa.String(40))
    module_title: Mapped[str] = mapped_column(sa.String(200))
    content_version: Mapped[str] = mapped_column(sa.String(80))
    study_load: Mapped[str] = mapped_column(sa.String(80))
    accreditation_body: Mapped[str | None] = mapped_column(sa.String(200))
    accreditation_points: Mapped[str | None] = mapped_column(sa.String(40))
    accreditation_activity_id: Mapped[str | None] = mapped_column(sa.String(80))
    completed_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    valid_until: Mapped[date | None]
    # Who issued it, as printed (content/module.yaml `issuer` at issue time); empty on older certificates.
    issuer_institute: Mapped[str | None] = mapped_column(sa.String(80))
    issuer_signatory: Mapped[str | None] = mapped_column(sa.String(60))
    issuer_signatory_role: Mapped[str | None] = mapped_column(sa.String(60))

    status: Mapped[CertificateStatus] = mapped_column(
        sa.Enum(CertificateStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=CertificateStatus.VALID,
    )
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Indexed: the data export lists what an account did, and erasure clears it (course/privacy.py).
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    superseded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def is_expired(self, today: date) -> bool:
        return self.valid_until is not None and today > self.valid_until

    def state(self, today: date) -> str:
        """valid / revoked / superseded / expired, as the verify page shows it."""
        if self.status is CertificateStatus.REVOKED:
            return "revoked"
        if self.status is CertificateStatus.SUPERSEDED:
            return "superseded"
        return "expired" if self.is_expired(today) else "valid"

    @property
    def ended_at(self) -> datetime | None:
        """When this certificate stopped counting (revocation), for reissue rules."""
        return as_utc(self.revoked_at) if self.revoked_at else None

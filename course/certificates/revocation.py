"""Revoking a certificate: an admin action with a reason and an audit record."""

from __future__ import annotations

from datetime import datetime

from course import audit
from course.models import Certificate, CertificateStatus, User


class AlreadyRevoked(Exception):
    pass


def revoke(certificate: Certificate, actor: User, reason: str, now: datetime) -> None:
    if certificate.status is CertificateStatus.REVOKED:
        raise AlreadyRevoked
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    certificate.revoked_reason = reason.strip()
    certificate.revoked_by_id = actor.id
    audit.record(
        actor.id,
        "certificate.revoke",
        "certificate",
        certificate.id,
        reason=reason.strip(),
        user_id=certificate.user_id,
    )

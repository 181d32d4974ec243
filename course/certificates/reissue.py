"""Reissuing a certificate after a correction: a new code, the old certificate marked superseded.

A reissue corrects what is printed (the learner's register number, or their name by an admin); it is
not a new completion, so completion date and validity stay those of the certificate it replaces. The
old certificate is not revoked: its verify page says it was replaced, and when, but not by which code.
"""

from __future__ import annotations

from datetime import datetime

from course import audit
from course.certificates.codes import new_code
from course.certificates.issuing import certificates_of
from course.extensions import db
from course.models import Certificate, CertificateStatus, User
from course.timeutil import local_date

# Copied unchanged from the certificate being replaced.
_KEPT = (
    "module_id",
    "module_title",
    "content_version",
    "study_load",
    "accreditation_body",
    "accreditation_points",
    "accreditation_activity_id",
    "issuer_institute",
    "issuer_signatory",
    "issuer_signatory_role",
    "completed_on",
    "valid_until",
)


class NotReissuable(Exception):
    """Only a learner's current, valid certificate can be reissued."""


class NothingToCorrect(Exception):
    """The certificate already shows these details."""


def register_on_profile(user: User) -> tuple[str | None, str | None]:
    """The register name and number the learner agreed to have printed (both None without consent)."""
    if user.register_consent_at is None:
        return None, None
    return user.register_name, user.register_number


def register_differs(certificate: Certificate, user: User) -> bool:
    """The profile holds a register number (with consent) other than the one on this certificate."""
    name, number = register_on_profile(user)
    return number is not None and (certificate.register_name, certificate.register_number) != (name, number)


def reissue(certificate: Certificate, user: User, actor: User, *, reason: str, now: datetime) -> Certificate:
    """A new certificate with the learner's current register details and `learner_name` from `user`.

    `reason` is "registernummer" (the learner's own correction) or "naam" (an admin's). Flushes;
    the caller commits."""
    if certificate.user_id != user.id or certificate.state(local_date(now)) != "valid":
        raise NotReissuable
    register_name, register_number = register_on_profile(user)
    if reason == "registernummer":
        learner_name = certificate.learner_name
    else:
        learner_name = user.display_name
        # An admin's name correction keeps the register details the certificate already had.
        register_name, register_number = certificate.register_name, certificate.register_number
    if (learner_name, register_name, register_number) == (
        certificate.learner_name,
        certificate.register_name,
        certificate.register_number,
    ):
        raise NothingToCorrect
    replacement = Certificate(
        user_id=user.id,
        sequence=len(certificates_of(user.id, certificate.module_id)) + 1,
        verification_code=new_code(),
        learner_name=learner_name,
        register_name=register_name,
        register_number=register_number,
        issued_at=now,
        **{field: getattr(certificate, field) for field in _KEPT},
    )
    certificate.status = CertificateStatus.SUPERSEDED
    certificate.superseded_at = now
    db.session.add(replacement)
    db.session.flush()
    audit.record(
        actor.id,
        "certificate.reissue",
        "certificate",
        certificate.id,
        reason=reason,
        replacement_id=replacement.id,
        user_id=user.id,
    )
    return replacement

"""Issuing certificates: automatically, exactly once per completion, safe under concurrency."""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from course.catalog import Catalog
from course.certificates.codes import new_code
from course.certificates.completion import Completion, evaluate, may_receive_certificate
from course.extensions import db
from course.lti import scores as lti_scores
from course.models import Attempt, AttemptMode, AttemptStatus, Certificate, CertificateStatus, LessonRead, User
from course.timeutil import LOCAL_TIME, as_utc, local_date

log = logging.getLogger(__name__)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def certificates_of(user_id: int, module_id: str) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.user_id == user_id, Certificate.module_id == module_id)
            .order_by(Certificate.sequence)
        )
    )


def current_certificate(certificates: list[Certificate], today: date) -> Certificate | None:
    """The newest certificate that still counts (not revoked, not expired)."""
    return next((c for c in reversed(certificates) if c.state(today) == "valid"), None)


def since_last(certificates: list[Certificate]) -> datetime | None:
    """After a revoked or expired certificate, only newer passes count towards a new one."""
    if not certificates:
        return None
    last = certificates[-1]
    if last.status is CertificateStatus.REVOKED:
        return last.ended_at
    if last.valid_until is not None:
        return datetime.combine(last.valid_until, datetime.max.time(), tzinfo=LOCAL_TIME)
    return as_utc(last.issued_at)


def learner_completion(user: User, catalog: Catalog, since: datetime | None) -> Completion:
    reads = {
        lesson_id: read_at
        for lesson_id, read_at in db.session.execute(
            sa.select(LessonRead.lesson_id, LessonRead.read_at).where(LessonRead.user_id == user.id)
        )
    }
    passes: dict[str, list[datetime]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(Attempt.quiz_id, Attempt.finished_at).where(
            Attempt.user_id == user.id,
            Attempt.mode == AttemptMode.GRADED,
            Attempt.status == AttemptStatus.FINISHED,
            Attempt.passed.is_(True),
            Attempt.quiz_id.in_(catalog.module.completion.quizzes_passed),
        )
    )
    for quiz_id, finished_at in rows:
        passes[quiz_id].append(finished_at)
    return evaluate(catalog, reads, passes, since)


def issue_if_complete(user: User, catalog: Catalog, now: datetime) -> Certificate | None:
    """The learner's current certificate, issuing one if they just completed. Flushes; caller commits."""
    module = catalog.module
    existing = certificates_of(user.id, module.id)
    today = local_date(now)
    current = current_certificate(existing, today)
    if current is not None:
        return current
    completion = learner_completion(user, catalog, since_last(existing))
    if not completion.complete or not may_receive_certificate(user.email_verified_at):
        # Unverified: the dashboard says so; once verified, the next visit issues it (dated on completion).
        return None
    completed_on = local_date(completion.completed_at)
    accreditation = module.accreditation
    certificate = Certificate(
        user_id=user.id,
        module_id=module.id,
        sequence=len(existing) + 1,
        verification_code=new_code(),
        learner_name=user.display_name,
        register_name=user.register_name if user.register_consent_at else None,
        register_number=user.register_number if user.register_consent_at else None,
        module_title=module.title,
        content_version=module.content_version,
        study_load=module.study_load,
        accreditation_body=accreditation.body if accreditation else None,
        accreditation_points=accreditation.points if accreditation else None,
        accreditation_activity_id=accreditation.activity_id if accreditation else None,
        issuer_institute=module.issuer.institute if module.issuer else None,
        issuer_signatory=module.issuer.signatory if module.issuer else None,
        issuer_signatory_role=module.issuer.signatory_role if module.issuer else None,
        completed_on=completed_on,
        issued_at=now,
        valid_until=add_months(completed_on, module.certificate_validity_months)
        if module.certificate_validity_months
        else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        # Another request issued this same certificate a moment ago: that one is the certificate.
        winner = db.session.scalar(
            sa.select(Certificate).where(
                Certificate.user_id == user.id,
                Certificate.module_id == module.id,
                Certificate.sequence == len(existing) + 1,
            )
        )
        return winner
    # The LMS line items placed for the whole module hear of the completion (outbox, same transaction).
    lti_scores.report_module_completed(user.id, now)
    log.info("Certificaat %s uitgegeven aan account %s", certificate.id, user.id)
    return certificate


def award_if_complete(user: User, catalog: Catalog, now: datetime) -> tuple[Certificate | None, bool]:
    """Issue and commit a certificate if the learner just completed; (certificate, newly issued)."""
    before = {c.id for c in certificates_of(user.id, catalog.module.id)}
    certificate = issue_if_complete(user, catalog, now)
    db.session.commit()
    return certificate, certificate is not None and certificate.id not in before

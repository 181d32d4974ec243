"""Scores back to the LMS (Assignment and Grade Services), always through the outbox.

A launch remembers where a learner's score for the launched resource goes (LtiGradeLink). Finishing
a graded test, or completing the module, writes an LtiScoreReport and an outbox row (kind
"lti_score") in the same transaction; `flask course send-lti-scores` posts it. A platform that is
down keeps the row pending (retried with backoff); the outbox claim makes one sender post a row once.
AGS keeps the newest score per user and line item, so a repeat after a crash that hid a success is
harmless: the same score with the same timestamp."""

from __future__ import annotations

import logging
from datetime import datetime

import requests
import sqlalchemy as sa
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.contrib.flask import FlaskServiceConnector
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from course.extensions import db
from course.lti.tool import registration_for
from course.models import LtiGradeLink, LtiPlatform, LtiScoreReport, OutboxMessage, OutboxStatus
from course.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

KIND = "lti_score"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
REQUEST_TIMEOUT_SECONDS = 30


def remember_grade_link(user_id: int, platform: LtiPlatform, module_id: str, resource: str, claims: dict) -> None:
    """Keep the launch's AGS endpoint for scored resources (the module, a test). Flushes."""
    endpoint = claims.get(AGS) or {}
    link_id = str((claims.get(RESOURCE_LINK) or {}).get("id") or "")
    if SCORE_SCOPE not in (endpoint.get("scope") or []) or not link_id or resource.startswith("lesson:"):
        return
    values = {
        "module_id": module_id,
        "resource": resource,
        "platform_user_id": str(claims["sub"]),
        "lineitem_url": endpoint.get("lineitem"),
        "lineitems_url": endpoint.get("lineitems"),
        "scopes": list(endpoint.get("scope")),
        "updated_at": utcnow(),
    }
    link = db.session.scalar(
        sa.select(LtiGradeLink).where(
            LtiGradeLink.user_id == user_id,
            LtiGradeLink.platform_id == platform.id,
            LtiGradeLink.resource_link_id == link_id[:255],
        )
    )
    if link is None:
        db.session.add(LtiGradeLink(user_id=user_id, platform_id=platform.id, resource_link_id=link_id[:255], **values))
    else:
        for name, value in values.items():
            setattr(link, name, value)
    db.session.flush()


def _report(resource: str, user_id: int, score: float, now: datetime) -> int:
    links = db.session.scalars(
        sa.select(LtiGradeLink).where(LtiGradeLink.user_id == user_id, LtiGradeLink.resource == resource)
    ).all()
    for link in links:
        report = LtiScoreReport(
            grade_link_id=link.id,
            module_id=link.module_id,
            score_given=score,
            score_maximum=100.0,
            activity_progress="Completed",
            grading_progress="FullyGraded",
            scored_at=now,
        )
        db.session.add(report)
        db.session.flush()
        row = OutboxMessage(
            kind=KIND,
            topic="lti.score",
            module_id=link.module_id,
            recipient=f"lti-score:{report.id}",  # no personal data: the report names the learner
            subject=resource,
            body_text="",
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        db.session.add(row)
        db.session.flush()
        report.outbox_id = row.id
    return len(links)


def report_attempt(user_id: int, quiz_id: str, percent: float, now: datetime) -> int:
    """A finished graded test: its percentage to every line item placed for that test. Flushes."""
    return _report(f"quiz:{quiz_id}", user_id, float(percent), now)


def report_module_completed(user_id: int, now: datetime) -> int:
    """The module completed (certificate issued): 100 to every line item placed for the module."""
    return _report("module", user_id, 100.0, now)


class _TimeoutSession(requests.Session):
    # pylti1p3 calls the platform without a timeout: a hung platform must not hang the sender.
    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


def deliver(row: OutboxMessage) -> None:
    """The outbox sender for "lti_score": post the report's score to the platform. Raises on failure."""
    report_id = int(row.recipient.removeprefix("lti-score:"))
    report = db.session.get(LtiScoreReport, report_id)
    if report is None:
        raise LookupError("score report gone (learner erased)")
    link = db.session.get(LtiGradeLink, report.grade_link_id)
    platform = db.session.get(LtiPlatform, link.platform_id)
    registration = registration_for(platform)
    service = AssignmentsGradesService(
        FlaskServiceConnector(registration, _TimeoutSession()),
        {"scope": link.scopes, "lineitem": link.lineitem_url, "lineitems": link.lineitems_url},
    )
    grade = (
        Grade()
        .set_score_given(report.score_given)
        .set_score_maximum(report.score_maximum)
        .set_activity_progress(report.activity_progress)
        .set_grading_progress(report.grading_progress)
        .set_timestamp(as_utc(report.scored_at).isoformat())
        .set_user_id(link.platform_user_id)
    )
    # Without a line item of its own (a link placed without one), find or make ours by resource id.
    wanted = None
    if not link.lineitem_url:
        wanted = LineItem().set_resource_id(link.resource).set_label(link.resource).set_score_maximum(100)
    db.session.rollback()  # no transaction stays open while the platform answers
    lineitem = service.find_or_create_lineitem(wanted, find_by="resource_id") if wanted else None
    service.put_grade(grade, lineitem)
    log.info("LTI-score %s verstuurd", report_id)

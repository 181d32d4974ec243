"""Names and Role Provisioning: an LMS course is a group here, its Instructor the trainer.

A launch records the course (LtiContext) and puts the launching learner in its group; the group
itself is made at the first Instructor launch (a group needs a trainer). `flask course lti-sync`
reads each course's roster: learners who launched before (linked by issuer + subject) join,
learners the LMS no longer lists as active leave the group. Leaving removes only the membership:
attempts and certificates stay. Roster members who never launched get no account from the roster
(its e-mail address proves nothing); their first launch makes one."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from pylti1p3.contrib.flask import FlaskServiceConnector
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.roles import StudentRole

from course import audit
from course.extensions import db
from course.lti.scores import _TimeoutSession
from course.lti.tool import registration_for
from course.models import ExternalIdentity, Group, GroupMember, LtiContext, LtiPlatform, Role, User
from course.timeutil import utcnow
from course.trainer import progress, stored_analysis

log = logging.getLogger(__name__)

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def on_launch(user: User, role: Role, platform: LtiPlatform, claims: dict) -> LtiContext | None:
    """Record the launch's course, make its group at an Instructor launch, add a launching learner. Flushes."""
    context = claims.get(CONTEXT) or {}
    context_id = str(context.get("id") or "")[:255]
    if not context_id:
        return None
    row = db.session.scalar(
        sa.select(LtiContext).where(LtiContext.platform_id == platform.id, LtiContext.context_id == context_id)
    )
    title = str(context.get("title") or context.get("label") or "Cursus uit de leeromgeving")[:255]
    if row is None:
        row = LtiContext(platform_id=platform.id, context_id=context_id, title=title)
        db.session.add(row)
    row.title = title
    row.memberships_url = (claims.get(NRPS) or {}).get("context_memberships_url") or row.memberships_url
    db.session.flush()
    if row.group_id is None and role is Role.TRAINER:
        group = Group(name=title[:120], trainer_id=user.id)
        db.session.add(group)
        db.session.flush()
        row.group_id = group.id
        audit.record(user.id, "lti_group_created", "group", group.id, platform_id=platform.id)
    if row.group_id is not None and role is Role.LEARNER and user.role is Role.LEARNER:
        _join(row.group_id, user.id)
    db.session.flush()
    return row


def _join(group_id: int, user_id: int) -> bool:
    exists = db.session.scalar(
        sa.select(GroupMember.id).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
    )
    if exists is not None:
        return False
    db.session.add(GroupMember(group_id=group_id, user_id=user_id))
    stored_analysis.forget_for_members(db.session, group_id, [user_id])
    return True


@dataclass
class SyncReport:
    joined: int = 0
    left: int = 0


def sync(context: LtiContext) -> SyncReport:
    """Bring the group in line with the LMS roster (one course). Raises on a platform error, changing nothing."""
    report = SyncReport()
    if context.group_id is None or not context.memberships_url:
        return report
    platform = db.session.get(LtiPlatform, context.platform_id)
    service = NamesRolesProvisioningService(
        FlaskServiceConnector(registration_for(platform), _TimeoutSession()),
        {"context_memberships_url": context.memberships_url, "service_versions": ["2.0"]},
    )
    members = service.get_members()
    active = {
        str(m["user_id"])
        for m in members
        if m.get("status", "Active") == "Active"
        and StudentRole({"https://purl.imsglobal.org/spec/lti/claim/roles": m.get("roles", [])}).check()
    }
    linked = dict(
        db.session.execute(
            sa.select(ExternalIdentity.subject, ExternalIdentity.user_id).where(
                ExternalIdentity.source == "lti", ExternalIdentity.issuer == platform.issuer
            )
        ).all()
    )
    for subject in active & set(linked):
        if _join(context.group_id, linked[subject]):
            report.joined += 1
    gone = [user_id for subject, user_id in linked.items() if subject not in active]
    if gone:
        # Only the membership: attempts, certificates and the account itself stay.
        result = db.session.execute(
            sa.delete(GroupMember).where(GroupMember.group_id == context.group_id, GroupMember.user_id.in_(gone))
        )
        report.left = result.rowcount
        stored_analysis.forget_for_members(db.session, context.group_id, gone)
        progress.learners_changed(*gone)
    context.synced_at = utcnow()
    if report.joined or report.left:
        audit.record(None, "lti_roster_synced", "group", context.group_id, joined=report.joined, left=report.left)
    db.session.flush()
    return report

"""Recording sensitive actions. The caller's transaction commits the record with the change.

An event about a person names them as its subject ("user", id) or, when its subject is something
else (an attempt, a certificate, a group), with their id under one of USER_DETAIL_KEYS in the details.
The data export and erasure (course/privacy.py) find a person's events only that way.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from course.extensions import db
from course.models import AuditEvent

log = logging.getLogger(__name__)
USER_DETAIL_KEYS = ("user_id", "learner_id")


def record(actor_id: int | None, action: str, subject_type: str, subject_id: int | None, **details: Any) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor_id, action=action, subject_type=subject_type, subject_id=subject_id, details=details
    )
    db.session.add(event)
    log.info("Audit: %s door account %s op %s %s", action, actor_id, subject_type, subject_id)
    return event


def about_user(user_id: int) -> sa.ColumnElement[bool]:
    """Events whose subject is this person, or that name them in their details (see module doc)."""
    return sa.or_(
        sa.and_(AuditEvent.subject_type == "user", AuditEvent.subject_id == user_id),
        *(AuditEvent.details[key].as_integer() == user_id for key in USER_DETAIL_KEYS),
    )

"""Recording sensitive actions. The caller's transaction commits the record with the change."""

from __future__ import annotations

import logging
from typing import Any

from course.extensions import db
from course.models import AuditEvent

log = logging.getLogger(__name__)


def record(actor_id: int | None, action: str, subject_type: str, subject_id: int | None, **details: Any) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor_id, action=action, subject_type=subject_type, subject_id=subject_id, details=details
    )
    db.session.add(event)
    log.info("Audit: %s door account %s op %s %s", action, actor_id, subject_type, subject_id)
    return event

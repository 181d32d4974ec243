"""What a trainer may do for a learner in their group; every action is audited."""

from __future__ import annotations

from datetime import datetime

from course import audit
from course.extensions import db
from course.models import Attempt, AttemptGrant, AttemptMode, AttemptStatus, User
from course.trainer import stored_analysis


class NotResettable(Exception):
    pass


def grant_extra_attempt(trainer: User, learner: User, quiz_id: str, reason: str) -> AttemptGrant:
    grant = AttemptGrant(user_id=learner.id, quiz_id=quiz_id, extra=1, granted_by_id=trainer.id)
    db.session.add(grant)
    db.session.flush()
    audit.record(trainer.id, "attempt.grant_extra", "user", learner.id, quiz_id=quiz_id, reason=reason.strip())
    return grant


def reset_attempt(trainer: User, attempt: Attempt, reason: str, now: datetime) -> None:
    """Take a graded attempt out of the count (e.g. a technical failure); it stays on record."""
    if attempt.mode is not AttemptMode.GRADED:
        raise NotResettable
    attempt.mode = AttemptMode.VOIDED
    if attempt.status is AttemptStatus.IN_PROGRESS:
        attempt.status = AttemptStatus.FINISHED
        attempt.finished_at = now
    attempt.revision += 1  # an open tab of the learner can no longer save into it
    # The stored item analyses of this quiz counted it: the next view computes them without it.
    stored_analysis.forget_quiz(db.session, attempt.quiz_id)
    audit.record(
        trainer.id,
        "attempt.reset",
        "attempt",
        attempt.id,
        user_id=attempt.user_id,
        quiz_id=attempt.quiz_id,
        percent=attempt.percent,
        reason=reason.strip(),
    )

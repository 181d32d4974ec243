"""What a learner should do next: one answer for the dashboard and the result pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import url_for

from course.catalog import Catalog
from course.certificates.completion import Completion
from course.certificates.issuing import certificates_of, current_certificate, learner_completion, since_last
from course.extensions import db
from course.models import Attempt, AttemptStatus, Certificate, LessonRead, User
from course.quizzes.attempts import all_standings
from course.quizzes.policy import Standing
from course.timeutil import local_date


@dataclass(frozen=True)
class NextStep:
    kind: str  # "resume", "lesson", "quiz" or "certificate"
    label: str  # the button text
    url: str
    target_id: str  # lesson id, quiz id, or certificate id as text


def next_step(
    catalog: Catalog,
    completion: Completion,
    standings: dict[str, Standing],
    certificate: Certificate | None,
    has_read_any: bool,
) -> NextStep | None:
    """An open attempt first (resuming beats starting anything new), then the certificate once it is
    there, then the first required step not done yet. None when nothing is left to do here."""
    for quiz in catalog.quizzes:  # course order: the first open attempt a learner would meet
        attempt_id = standings[quiz.id].in_progress_id
        if attempt_id is not None:
            return NextStep("resume", f"Ga verder met je poging: {quiz.title}", _attempt_url(attempt_id), quiz.id)
    if certificate is not None:
        url = url_for("certificates.download", certificate_id=certificate.id)
        return NextStep("certificate", "Download je certificaat (pdf)", url, str(certificate.id))
    step = completion.next_step
    if step is None:
        return None
    if step.kind == "lesson":
        lesson = catalog.lesson(step.target_id)
        verb = "Verder met" if has_read_any else "Begin met"
        url = url_for("lessons.lesson", lesson_id=lesson.id)
        return NextStep("lesson", f"{verb} les {lesson.chapter}: {lesson.title}", url, lesson.id)
    quiz = catalog.quiz(step.target_id)
    return NextStep("quiz", f"{quiz.title} maken", url_for("quizzes.detail", quiz_id=quiz.id), quiz.id)


def for_learner(user: User, catalog: Catalog, now: datetime) -> NextStep | None:
    """The next step computed from the database (the result pages; the dashboard has the parts already)."""
    earlier = certificates_of(user.id, catalog.module.id)
    certificate = current_certificate(earlier, local_date(now))
    completion = learner_completion(user, catalog, None if certificate else since_last(earlier))
    has_read = db.session.scalar(sa.select(sa.select(LessonRead.id).where(LessonRead.user_id == user.id).exists()))
    return next_step(catalog, completion, all_standings(user, catalog, now), certificate, bool(has_read))


def _attempt_url(attempt_id: int) -> str:
    return url_for("quizzes.attempt", attempt_id=attempt_id)


def has_done_check(user_id: int, quiz_id: str) -> bool:
    """A knowledge check counts as done once any attempt at it is finished (it has no pass mark)."""
    finished = sa.select(Attempt.id).where(
        Attempt.user_id == user_id, Attempt.quiz_id == quiz_id, Attempt.status == AttemptStatus.FINISHED
    )
    return db.session.scalar(sa.select(finished.exists())) is True

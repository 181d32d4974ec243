"""Has a learner completed the module? Pure: data in, verdict out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from course.catalog import Catalog
from course.timeutil import as_utc


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    kind: str  # "lesson" or "quiz"
    target_id: str


@dataclass(frozen=True)
class Completion:
    complete: bool
    completed_at: datetime | None  # when the last requirement was met
    steps: tuple[Step, ...]
    next_step: Step | None  # the first step not done yet
    done_count: int


def evaluate(
    catalog: Catalog,
    lessons_read_at: Mapping[str, datetime],
    passed_at: Mapping[str, Iterable[datetime]],
    since: datetime | None = None,
) -> Completion:
    """Completion per the module's rules.

    `passed_at` holds the finish times of passed graded attempts per quiz. Passes before
    `since` (when an earlier certificate was revoked or expired) do not count again, so a
    new certificate needs a new passing attempt; lessons once read stay read.
    """
    rules = catalog.module.completion
    steps: list[Step] = []
    moments: list[datetime] = []
    if rules.all_lessons_read:
        for lesson in catalog.lessons:
            read = lessons_read_at.get(lesson.id)
            steps.append(Step(f"Les {lesson.chapter}: {lesson.title} lezen", read is not None, "lesson", lesson.id))
            if read is not None:
                moments.append(as_utc(read))
    for quiz_id in rules.quizzes_passed:
        quiz = catalog.quiz(quiz_id)
        passes = sorted(as_utc(t) for t in passed_at.get(quiz_id, ()) if since is None or as_utc(t) > since)
        steps.append(Step(f"{quiz.title} halen", bool(passes), "quiz", quiz_id))
        if passes:
            moments.append(passes[0])
    complete = all(step.done for step in steps)
    return Completion(
        complete=complete,
        completed_at=max(moments) if complete else None,
        steps=tuple(steps),
        next_step=next((step for step in steps if not step.done), None),
        done_count=sum(step.done for step in steps),
    )


def may_receive_certificate(email_verified_at: datetime | None) -> bool:
    """A certificate is issued only to a verified address: it is proof of training sent and looked up by
    that address, so the address must be known to reach the learner. Issued certificates stay valid."""
    return email_verified_at is not None

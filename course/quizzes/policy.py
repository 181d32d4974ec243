"""Retake rules: what a learner's attempts allow next. Pure functions over plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from course.formatting import nl_time
from course.quizzes.definitions import Counting, Quiz, ReviewPolicy
from course.timeutil import as_utc


class AttemptLike(Protocol):
    number: int
    finished_at: datetime | None
    percent: float | None
    passed: bool | None

    @property
    def is_finished(self) -> bool: ...


@dataclass(frozen=True)
class Standing:
    attempts_used: int
    attempts_left: int | None  # None: unlimited
    in_progress_id: int | None
    best_percent: float | None
    last_percent: float | None
    counted_percent: float | None  # the one the policy counts (best or last)
    passed: bool
    can_start: bool
    blocked_reason: str | None
    next_start_at: datetime | None
    finished_any: bool  # at least one attempt was finished


def standing(quiz: Quiz, attempts: Sequence[AttemptLike], now: datetime, extra_attempts: int = 0) -> Standing:
    """Where a learner stands on `quiz`, given their graded attempts (any order)."""
    ordered = sorted(attempts, key=lambda a: a.number)
    finished = [a for a in ordered if a.is_finished]
    in_progress = next((a for a in ordered if not a.is_finished), None)
    best = max((a.percent for a in finished), default=None)
    last = finished[-1].percent if finished else None
    if quiz.policy.counts is Counting.BEST:
        counted, passed = best, any(a.passed for a in finished)
    else:
        counted, passed = last, bool(finished and finished[-1].passed)

    limit = None if quiz.policy.max_attempts is None else quiz.policy.max_attempts + extra_attempts
    left = None if limit is None else max(0, limit - len(ordered))
    reason: str | None = None
    next_at: datetime | None = None
    if in_progress is not None:
        reason = None  # resuming is always possible
    elif left == 0:
        reason = "Je hebt geen pogingen meer over."
    elif finished and quiz.policy.cooldown_minutes:
        next_at = as_utc(finished[-1].finished_at) + timedelta(minutes=quiz.policy.cooldown_minutes)
        if now < next_at:
            reason = f"Je kunt een nieuwe poging starten vanaf {nl_time(next_at)} uur."
        else:
            next_at = None
    return Standing(
        attempts_used=len(ordered),
        attempts_left=left,
        in_progress_id=getattr(in_progress, "id", None),
        best_percent=best,
        last_percent=last,
        counted_percent=counted,
        passed=passed,
        can_start=in_progress is not None or reason is None,
        blocked_reason=reason,
        next_start_at=next_at,
        finished_any=last is not None,
    )


def answers_visible(quiz: Quiz, current: Standing) -> bool:
    """May the learner see keys and explanations of finished graded attempts now?"""
    review = quiz.policy.review
    if review is ReviewPolicy.IMMEDIATELY:
        return True
    if review is ReviewPolicy.AFTER_PASS:
        return current.passed or current.attempts_left == 0
    return False


def practice_blocked_reason(quiz: Quiz, current: Standing) -> str | None:
    """Why "practise my mistakes" is closed now, or None when it is open.

    Practice shows the key and explanations of the questions it repeats, and a quiz's practice
    repeats that quiz's questions: so it opens exactly when `answers_visible` does. Until then a
    practice round (or its right/wrong per try) would hand out the key the review policy withholds.
    """
    if answers_visible(quiz, current):
        return None
    if quiz.policy.review is ReviewPolicy.AFTER_PASS:
        return (
            "Oefenen met je fouten kan bij deze toets pas als je de juiste antwoorden mag zien: zodra je "
            "geslaagd bent of geen pogingen meer hebt. Tot die tijd zie je bij je uitslag welke paragrafen "
            "je kunt nalezen."
        )
    return (
        "Bij deze toets blijven de juiste antwoorden geheim, dus kun je er niet met je fouten oefenen. "
        "Lees de paragrafen na die bij je uitslag staan."
    )

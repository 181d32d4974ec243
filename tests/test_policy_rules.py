"""Retake and review rules as a learner meets them: which score counts, whether they passed, when they
may start again, and when the answers are shown. Pure functions over plain attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from course.quizzes.definitions import Counting, Policy, Quiz, QuizKind, ReviewPolicy
from course.quizzes.policy import answers_visible, practice_blocked_reason, standing

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# What the practice button says instead, in full: the learner reads it word for word.
NOT_YET = (
    "Oefenen met je fouten kan bij deze toets pas als je de juiste antwoorden mag zien: zodra je "
    "geslaagd bent of geen pogingen meer hebt. Tot die tijd zie je bij je uitslag welke paragrafen "
    "je kunt nalezen."
)
NEVER = (
    "Bij deze toets blijven de juiste antwoorden geheim, dus kun je er niet met je fouten oefenen. "
    "Lees de paragrafen na die bij je uitslag staan."
)


@dataclass
class Attempt:
    number: int
    finished_at: datetime | None
    percent: float | None
    passed: bool | None
    id: int = 0

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


def finished(number: int, percent: float, passed: bool, minutes_ago: int = 600) -> Attempt:
    return Attempt(number, NOW - timedelta(minutes=minutes_ago), percent, passed, id=100 + number)


def open_attempt(number: int) -> Attempt:
    return Attempt(number, None, None, None, id=100 + number)


def quiz(
    counts: Counting = Counting.BEST,
    max_attempts: int | None = 3,
    cooldown: int = 0,
    review: ReviewPolicy = ReviewPolicy.AFTER_PASS,
) -> Quiz:
    policy = Policy(
        max_attempts=max_attempts, cooldown_minutes=cooldown, counts=counts, review=review, pass_mark_percent=70
    )
    return Quiz(id="eindtoets", title="Eindtoets", kind=QuizKind.SUMMATIVE, description="", policy=policy)


def test_nothing_done_yet():
    st = standing(quiz(), [], NOW)
    assert (st.attempts_used, st.attempts_left, st.in_progress_id) == (0, 3, None)
    assert (st.best_percent, st.last_percent, st.counted_percent) == (None, None, None)
    assert st.passed is False and st.finished_any is False
    assert st.can_start is True and st.blocked_reason is None and st.next_start_at is None


def test_counting_best_keeps_the_best_score_and_a_pass_once_earned():
    # Given in any order: the attempt number decides which one is the last.
    attempts = [finished(2, 55.0, False, 100), finished(1, 80.0, True, 200)]
    st = standing(quiz(Counting.BEST), attempts, NOW)
    assert (st.best_percent, st.last_percent, st.counted_percent) == (80.0, 55.0, 80.0)
    assert st.passed is True and st.finished_any is True


def test_counting_last_takes_the_latest_attempt_even_when_it_is_worse():
    attempts = [finished(2, 55.0, False, 100), finished(1, 80.0, True, 200)]
    st = standing(quiz(Counting.LAST), attempts, NOW)
    assert (st.best_percent, st.last_percent, st.counted_percent) == (80.0, 55.0, 55.0)
    assert st.passed is False


def test_counting_last_passes_when_the_latest_attempt_passed():
    attempts = [finished(1, 40.0, False, 200), finished(2, 75.0, True, 100), open_attempt(3)]
    st = standing(quiz(Counting.LAST), attempts, NOW)
    assert (st.counted_percent, st.passed) == (75.0, True)


def test_counting_last_with_only_an_open_attempt_has_not_passed():
    st = standing(quiz(Counting.LAST), [open_attempt(1)], NOW)
    assert st.passed is False and st.counted_percent is None and st.finished_any is False


def test_an_open_attempt_can_always_be_resumed_even_with_no_attempts_left():
    attempts = [finished(1, 20.0, False), open_attempt(2)]
    st = standing(quiz(max_attempts=2, cooldown=60), attempts, NOW)
    assert (st.attempts_used, st.attempts_left, st.in_progress_id) == (2, 0, 102)
    assert st.can_start is True and st.blocked_reason is None


def test_out_of_attempts_blocks_a_new_start():
    attempts = [finished(1, 20.0, False), finished(2, 30.0, False)]
    st = standing(quiz(max_attempts=2), attempts, NOW)
    assert st.attempts_left == 0 and st.can_start is False
    assert st.blocked_reason == "Je hebt geen pogingen meer over."


def test_extra_attempts_granted_by_a_trainer_add_to_the_limit():
    attempts = [finished(1, 20.0, False), finished(2, 30.0, False)]
    st = standing(quiz(max_attempts=2), attempts, NOW, extra_attempts=1)
    assert st.attempts_left == 1 and st.can_start is True


def test_unlimited_attempts_are_never_used_up():
    attempts = [finished(n, 10.0, False) for n in range(1, 8)]
    st = standing(quiz(max_attempts=None), attempts, NOW)
    assert st.attempts_left is None and st.attempts_used == 7 and st.can_start is True


def test_cooldown_after_the_last_finished_attempt():
    attempts = [finished(1, 20.0, False, minutes_ago=300), finished(2, 30.0, False, minutes_ago=10)]
    st = standing(quiz(cooldown=60), attempts, NOW)
    assert st.can_start is False
    assert st.next_start_at == NOW + timedelta(minutes=50)
    # 12:50 UTC in winter is 13:50 in the Netherlands: the learner reads their own clock time.
    assert st.blocked_reason == "Je kunt een nieuwe poging starten vanaf 13:50 uur."


def test_cooldown_ends_exactly_at_its_time():
    st = standing(quiz(cooldown=60), [finished(1, 20.0, False, minutes_ago=60)], NOW)
    assert st.can_start is True and st.blocked_reason is None and st.next_start_at is None


def test_no_cooldown_means_start_again_at_once():
    st = standing(quiz(cooldown=0), [finished(1, 20.0, False, minutes_ago=0)], NOW)
    assert st.can_start is True and st.next_start_at is None


def after(counts=Counting.BEST, max_attempts=3, review=ReviewPolicy.AFTER_PASS, attempts=()):
    q = quiz(counts, max_attempts, review=review)
    return q, standing(q, list(attempts), NOW)


def test_review_immediately_shows_answers_after_any_attempt():
    q, st = after(review=ReviewPolicy.IMMEDIATELY, attempts=[finished(1, 10.0, False)])
    assert answers_visible(q, st) is True
    assert practice_blocked_reason(q, st) is None


def test_review_after_pass_hides_answers_while_attempts_remain():
    q, st = after(attempts=[finished(1, 10.0, False)])
    assert answers_visible(q, st) is False
    assert practice_blocked_reason(q, st) == NOT_YET


def test_review_after_pass_hides_answers_with_unlimited_attempts_until_passed():
    q, st = after(max_attempts=None, attempts=[finished(1, 10.0, False)])
    assert answers_visible(q, st) is False


def test_review_after_pass_shows_answers_once_passed():
    q, st = after(attempts=[finished(1, 90.0, True)])
    assert answers_visible(q, st) is True
    assert practice_blocked_reason(q, st) is None


def test_review_after_pass_shows_answers_once_the_last_attempt_is_used():
    q, st = after(max_attempts=2, attempts=[finished(1, 10.0, False), finished(2, 20.0, False)])
    assert answers_visible(q, st) is True


@pytest.mark.parametrize(
    "attempts",
    [[], [finished(1, 95.0, True)], [finished(1, 10.0, False), finished(2, 20.0, False)]],
    ids=["nothing", "passed", "out-of-attempts"],
)
def test_review_never_keeps_the_answers_secret_always(attempts):
    q, st = after(max_attempts=2, review=ReviewPolicy.NEVER, attempts=attempts)
    assert answers_visible(q, st) is False
    assert practice_blocked_reason(q, st) == NEVER

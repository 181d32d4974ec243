"""Reliability in the item analysis: per graded quiz KR-20 (0/1 questions) or Cronbach's alpha
(partial credit) and the standard error of measurement, checked against values computed by hand; below
30 finished attempts the page says there are too few instead of showing a number."""

from __future__ import annotations

import math

import pytest

from course.models import Role
from course.quizzes.definitions import Counting, Option, Policy, Question, Quiz, QuizKind, ReviewPolicy
from course.trainer.item_analysis import MIN_RELIABILITY_ATTEMPTS, ItemRow, reliability
from tests.helpers import add_members, finish_quiz, new_group, text

POLICY = Policy(
    max_attempts=3, cooldown_minutes=0, counts=Counting.BEST, review=ReviewPolicy.NEVER, pass_mark_percent=70
)


def question(qid: str, qtype: str = "single_choice") -> Question:
    options = (
        Option("a", "Ja", True, ""),
        Option("b", "Nee", False, ""),
        Option("c", "Soms", qtype != "single_choice", ""),
    )
    if qtype == "true_false":
        options = options[:2]
    return Question(id=qid, type=qtype, section="1", prompt="?", options=options)


def quiz(*questions: Question, kind: QuizKind = QuizKind.SUMMATIVE) -> Quiz:
    return Quiz(id="t", title="T", kind=kind, description="", policy=POLICY, questions=questions)


def rows(matrix: list[list[float | None]], ids: list[str]) -> list[ItemRow]:
    """One attempt per line; None: the question was not in that attempt."""
    out = []
    for attempt, scores in enumerate(matrix):
        asked = [s for s in scores if s is not None]
        percent = 100 * sum(asked) / len(asked)
        out += [ItemRow(attempt, percent, qid, s, "a") for qid, s in zip(ids, scores, strict=True) if s is not None]
    return out


def test_kr20_and_the_standard_error_of_measurement_as_computed_by_hand():
    # Four attempts, three 0/1 questions. p = .75, .50, .25; sum pq = .625; totals 3, 2, 1, 0 with
    # variance 1.25: KR-20 = 3/2 * (1 - .625 / 1.25) = 0.75. Percent scores 100, 66.7, 33.3, 0 have a
    # standard deviation (n - 1) of 43.03; SEM = 43.03 * sqrt(1 - 0.75) = 21.5 percentage points.
    matrix = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]
    result = reliability(
        quiz(question("a"), question("b"), question("c", "true_false")), rows(matrix, ["a", "b", "c"]), minimum=4
    )
    assert result.method == "KR-20"
    assert result.coefficient == pytest.approx(0.75)
    assert result.sem == pytest.approx(100 / 3 * math.sqrt(5 / 3) * 0.5)
    assert round(result.sem, 1) == 21.5


def test_cronbachs_alpha_for_partial_credit_as_computed_by_hand():
    # Item variances 1/6 and 1/18, total variance 7/18: alpha = 2 * (1 - (4/18) / (7/18)) = 6/7.
    matrix = [[1, 0.5], [0.5, 0.5], [0, 0]]
    result = reliability(quiz(question("a"), question("b", "multiple_response")), rows(matrix, ["a", "b"]), minimum=3)
    assert result.method == "Cronbachs alfa"
    assert result.coefficient == pytest.approx(6 / 7)


def test_a_drawn_test_estimates_covariance_from_the_pairs_asked_together():
    # Two attempts of the same three questions and two of two of them: the formula uses what met.
    matrix = [[1, 1, 1], [0, 0, 0], [1, 1, None], [0, 0, None]]
    result = reliability(quiz(question("a"), question("b"), question("c")), rows(matrix, ["a", "b", "c"]), minimum=4)
    # Every item variance .25 and every covariance .25 among the attempts holding the pair: alpha = 1.
    assert result.items_per_attempt == pytest.approx(2.5)
    assert result.coefficient == pytest.approx(1.0)
    assert result.sem == pytest.approx(0.0)


def test_below_the_minimum_there_is_no_coefficient_only_the_count():
    matrix = [[1, 1], [0, 0]] * ((MIN_RELIABILITY_ATTEMPTS - 1) // 2) + [[1, 0]]
    result = reliability(quiz(question("a"), question("b")), rows(matrix, ["a", "b"]))
    assert result.attempts == MIN_RELIABILITY_ATTEMPTS - 1 < result.minimum == 30
    assert result.too_few_attempts and result.coefficient is None and result.sem is None
    enough = reliability(quiz(question("a"), question("b")), rows([*matrix, [1, 1]], ["a", "b"]))
    assert not enough.too_few_attempts and enough.coefficient is not None


def test_knowledge_checks_get_no_reliability():
    assert reliability(quiz(question("a"), kind=QuizKind.FORMATIVE), []) is None


def test_the_item_analysis_page_says_too_few_attempts(app, person):
    trainer = person(Role.TRAINER, "Tess Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    add_members(trainer, new_group(trainer), learner)
    finish_quiz(app, learner, "eindtoets", right=True)
    page = text(trainer.client.get("/trainer/toetsen/eindtoets/analyse"))
    assert "Betrouwbaarheid van de score" in page
    assert "Te weinig pogingen: 1 afgeronde poging, er zijn er minstens 30 nodig" in page

"""Which questions and cases an attempt draws, checked for every draw rather than for one lucky one.

The HTTP tests draw with a fixed seed per test (see DRAW_SEED in conftest.py); here the rules of
drawing are checked over many seeds and histories, so a draw that is right only by chance fails.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import Config
from course.catalog import load_catalog
from course.quizzes.definitions import QuizKind
from course.quizzes.selection import plan_attempt

seeds = st.integers(min_value=0, max_value=2**64 - 1)
# Earlier attempts, each drawn with its own seed: the learner's history before the draw under test.
histories = st.lists(seeds, max_size=4)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR)


@pytest.fixture(scope="module")
def final(catalog):
    return next(quiz for quiz in catalog.quizzes if quiz.kind is QuizKind.SUMMATIVE)


@pytest.fixture(scope="module")
def case_test(catalog):
    return next(quiz for quiz in catalog.quizzes if quiz.kind is QuizKind.VIGNETTE)


def questions_seen(quiz, seeds: list[int]) -> Counter:
    """How often a learner got each question (and case) in attempts drawn with these seeds."""
    seen: Counter = Counter()
    for seed in seeds:
        plan = plan_attempt(quiz, seen, random.Random(seed))
        seen.update({item.question_id for item in plan})
        seen.update({item.vignette_id for item in plan if item.vignette_id})
    return seen


@settings(max_examples=150, deadline=None)
@given(history=histories, seed=seeds)
def test_the_final_test_draws_the_questions_seen_least_from_every_pool(final, history, seed):
    seen = questions_seen(final, history)
    drawn = {item.question_id for item in plan_attempt(final, seen, random.Random(seed))}
    for draw in final.draw:
        pool = [q.id for q in final.questions if q.pool == draw.pool]
        chosen = [qid for qid in pool if qid in drawn]
        assert len(chosen) == draw.count, draw.pool
        left = [seen[qid] for qid in pool if qid not in drawn]
        assert max(seen[qid] for qid in chosen) <= min(left), (draw.pool, seen)


@settings(max_examples=150, deadline=None)
@given(history=histories, seed=seeds)
def test_the_case_test_draws_the_cases_seen_least_and_asks_all_their_questions(case_test, history, seed):
    seen = questions_seen(case_test, history)
    plan = plan_attempt(case_test, seen, random.Random(seed))
    cases = list(dict.fromkeys(item.vignette_id for item in plan))
    assert len(cases) == case_test.vignettes_per_attempt
    left = [seen[v.id] for v in case_test.vignettes if v.id not in cases]
    assert max(seen[case] for case in cases) <= min(left), seen
    for case in cases:
        asked = [item.question_id for item in plan if item.vignette_id == case]
        assert asked == [q.id for q in case_test.vignette(case).questions], "all questions, in story order"


@settings(max_examples=100, deadline=None)
@given(first=seeds, seed=seeds)
def test_a_retake_shares_no_question_and_no_case_with_the_first_attempt(final, case_test, first, seed):
    """The banks are large enough (tests/test_quiz_bank.py), so this holds for every draw."""
    for quiz in (final, case_test):
        seen = questions_seen(quiz, [first])
        retake = plan_attempt(quiz, seen, random.Random(seed))
        assert not {item.question_id for item in retake} & set(seen), quiz.id

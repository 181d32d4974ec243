"""Which questions and cases an attempt draws, checked for every draw rather than for one lucky one.

The HTTP tests draw with a fixed seed per test (see DRAW_SEED in conftest.py); here the rules of
drawing are checked over many seeds and histories, so a draw that is right only by chance fails.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import Config
from course.catalog import load_catalog
from course.quizzes.definitions import Quiz, QuizKind, Stage, Vignette
from course.quizzes.selection import choose_cases, plan_attempt

# Every attempt of the final test holds a question of each of these (issue 11).
NUMBERED_SECTIONS = ["1", "2.1", "2.2", "2.3", "2.4", "3", "4.1", "4.2", "5.1", "5.2", "5.3", "6"]

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


# Arbitrary retake histories: how often the learner already met each question or case (0-3 times).
def sightings(ids: list[str]):
    return st.dictionaries(st.sampled_from(ids), st.integers(min_value=0, max_value=3)).map(Counter)


@st.composite
def final_histories(draw, quiz):
    """Either earlier attempts drawn by the app itself or any counts at all."""
    if draw(st.booleans()):
        return questions_seen(quiz, draw(histories))
    return draw(sightings([q.id for q in quiz.questions]))


@st.composite
def case_histories(draw, quiz):
    if draw(st.booleans()):
        return questions_seen(quiz, draw(histories))
    return draw(sightings([v.id for v in quiz.vignettes]))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=seeds)
def test_every_final_test_attempt_holds_every_numbered_section_and_the_count_per_pool(final, data, seed):
    seen = data.draw(final_histories(final))
    plan = plan_attempt(final, seen, random.Random(seed))
    drawn = [final.question(item.question_id) for item in plan]
    assert len({q.id for q in drawn}) == len(drawn)
    assert {q.section for q in drawn} >= set(NUMBERED_SECTIONS)
    for rule in final.draw:
        assert sum(q.pool == rule.pool for q in drawn) == rule.count, rule.pool


@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=seeds)
def test_within_each_section_a_retake_draws_the_questions_seen_least(final, data, seed):
    seen = data.draw(final_histories(final))
    drawn = {item.question_id for item in plan_attempt(final, seen, random.Random(seed))}
    for section in {q.section for q in final.questions}:
        questions = [q.id for q in final.questions if q.section == section]
        chosen = [seen[qid] for qid in questions if qid in drawn]
        left = [seen[qid] for qid in questions if qid not in drawn]
        if chosen and left:
            assert max(chosen) <= min(left), (section, seen)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=seeds)
def test_every_case_attempt_holds_the_required_tags_and_all_questions_of_its_cases(case_test, data, seed):
    seen = data.draw(case_histories(case_test))
    plan = plan_attempt(case_test, seen, random.Random(seed))
    cases = [case_test.vignette(v) for v in dict.fromkeys(item.vignette_id for item in plan)]
    assert len(cases) == case_test.vignettes_per_attempt
    for tag, count in case_test.require_covers:
        assert sum(tag in case.covers for case in cases) >= count, (tag, [c.id for c in cases])
    for case in cases:
        asked = [item.question_id for item in plan if item.vignette_id == case.id]
        # A branching case is planned up to its first decision; the chosen stages follow when the
        # learner decides (tests/test_branching_cases.py).
        told = [q for index in case.segment(0) for q in case.stages[index].questions]
        assert asked == [q.id for q in told], "all questions (up to a decision), in story order"


@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=seeds)
def test_a_case_retake_takes_the_allowed_set_of_cases_seen_least(case_test, data, seed):
    """No set of cases that meets require_covers was met fewer times in total than the one drawn."""
    seen = data.draw(case_histories(case_test))
    plan = plan_attempt(case_test, seen, random.Random(seed))
    drawn = sum(seen[v] for v in dict.fromkeys(item.vignette_id for item in plan))
    required = dict(case_test.require_covers)
    for combo in combinations(case_test.vignettes, case_test.vignettes_per_attempt):
        if all(sum(tag in v.covers for v in combo) >= n for tag, n in required.items()):
            assert drawn <= sum(seen[v.id] for v in combo)


@pytest.fixture(scope="module")
def sparse_case_test(case_test) -> Quiz:
    """Ten cases; one carries each required tag: a draw that ignores tags misses them most of the time."""
    stage = Stage("Stap.", ())
    tags = {0: ("compensatie-kindrisico",), 1: ("geen-compensatie-ouderrisico",)}
    cases = tuple(
        Vignette(id=f"c{n}", title=f"c{n}", covers=tags.get(n, ("gezin",)), stages=(stage,)) for n in range(10)
    )
    return replace(
        case_test,
        id="casus",
        vignettes=cases,
        vignettes_per_attempt=3,
        require_covers=(("compensatie-kindrisico", 1), ("geen-compensatie-ouderrisico", 1)),
    )


@settings(max_examples=200, deadline=None)
@given(seen=sightings([f"c{n}" for n in range(10)]), seed=seeds)
def test_the_tag_rule_holds_even_when_the_tagged_cases_were_seen_most(sparse_case_test, seen, seed):
    cases = {case.id for case in choose_cases(sparse_case_test, seen, random.Random(seed))}
    assert {"c0", "c1"} <= cases


@settings(max_examples=100, deadline=None)
@given(first=seeds, seed=seeds)
def test_a_final_test_retake_shares_no_question_with_the_first_attempt(final, first, seed):
    """Every section has questions enough (flask course check), so this holds for every draw."""
    seen = questions_seen(final, [first])
    retake = plan_attempt(final, seen, random.Random(seed))
    assert not {item.question_id for item in retake} & set(seen)


@settings(max_examples=100, deadline=None)
@given(first=seeds, seed=seeds)
def test_a_case_retake_shares_no_case_with_the_first_attempt_when_the_tags_allow(case_test, first, seed):
    seen = questions_seen(case_test, [first])
    fresh = [v for v in case_test.vignettes if not seen[v.id]]
    required = dict(case_test.require_covers)
    possible = any(
        all(sum(tag in v.covers for v in combo) >= n for tag, n in required.items())
        for combo in combinations(fresh, case_test.vignettes_per_attempt)
    )
    retake = plan_attempt(case_test, seen, random.Random(seed))
    if possible:
        assert not {item.vignette_id for item in retake} & set(seen)

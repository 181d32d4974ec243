"""Which questions an attempt asks and in which order: a retake draws what the learner saw least,
case stages unfold page by page, and practising mistakes keeps a case's questions together in story
order. Every draw here uses a fixed seed, and the rules are checked over many seeds."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from course.quizzes.definitions import (
    Category,
    Counting,
    Draw,
    MatchItem,
    Option,
    Policy,
    Question,
    Quiz,
    QuizKind,
    ReviewPolicy,
    Stage,
    Vignette,
)
from course.quizzes.selection import display_order, plan_attempt, plan_practice

SEEDS = range(40)
POLICY = Policy(
    max_attempts=None, cooldown_minutes=0, counts=Counting.BEST, review=ReviewPolicy.IMMEDIATELY, pass_mark_percent=70
)


def question(qid: str, pool: str | None = None, qtype: str = "single_choice") -> Question:
    if qtype == "true_false":
        opts = (Option("a", "Waar", True, ""), Option("b", "Niet waar", False, ""))
    else:
        opts = tuple(Option(c, c, c == "a", "") for c in "abcd")
    return Question(id=qid, type=qtype, section="1", prompt="?", pool=pool, options=opts)


def drawn_quiz() -> Quiz:
    questions = tuple(question(f"p{n}", "pool") for n in range(6)) + tuple(question(f"r{n}", "rest") for n in range(3))
    return Quiz(
        id="eindtoets",
        title="Eindtoets",
        kind=QuizKind.SUMMATIVE,
        description="",
        policy=POLICY,
        questions=questions,
        draw=(Draw("pool", 3), Draw("rest", 1)),
    )


def case(vid: str, stages: int) -> Vignette:
    return Vignette(
        id=vid,
        title=vid,
        covers=(),
        stages=tuple(Stage(f"fase {s}", (question(f"{vid}-{s}a"), question(f"{vid}-{s}b"))) for s in range(stages)),
    )


def case_quiz(per_attempt: int = 2) -> Quiz:
    return Quiz(
        id="casustoets",
        title="Casustoets",
        kind=QuizKind.VIGNETTE,
        description="",
        policy=POLICY,
        vignettes=(case("v1", 2), case("v2", 3), case("v3", 1)),
        vignettes_per_attempt=per_attempt,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_a_drawn_attempt_takes_the_count_per_pool(seed):
    plan = plan_attempt(drawn_quiz(), Counter(), random.Random(seed))
    ids = [item.question_id for item in plan]
    assert len(ids) == len(set(ids)) == 4
    assert sum(i.startswith("p") for i in ids) == 3 and sum(i.startswith("r") for i in ids) == 1
    assert {item.page for item in plan} == {0} and all(item.vignette_id is None for item in plan)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_retake_draws_the_questions_seen_least(seed):
    seen = Counter({"p0": 1, "p1": 1, "p2": 1, "r0": 2, "r1": 1})
    plan = plan_attempt(drawn_quiz(), seen, random.Random(seed))
    assert {item.question_id for item in plan} == {"p3", "p4", "p5", "r2"}


@pytest.mark.parametrize("seed", SEEDS)
def test_a_case_retake_takes_the_cases_seen_least(seed):
    plan = plan_attempt(case_quiz(per_attempt=1), Counter({"v1": 2, "v2": 1, "v3": 3}), random.Random(seed))
    assert {item.vignette_id for item in plan} == {"v2"}


def test_without_a_history_the_draw_varies_with_the_seed():
    drawn = {
        tuple(sorted(i.question_id for i in plan_attempt(drawn_quiz(), Counter(), random.Random(s)))) for s in SEEDS
    }
    assert len(drawn) > 5


@pytest.mark.parametrize("seed", SEEDS)
def test_case_stages_unfold_one_page_each_across_the_cases_drawn(seed):
    quiz = case_quiz(per_attempt=2)
    plan = plan_attempt(quiz, Counter(), random.Random(seed))
    drawn = list(dict.fromkeys(item.vignette_id for item in plan))
    assert len(drawn) == 2
    # Stage n of a case is one page after stage n-1; the next case starts on the page after its last stage.
    expected, page = [], 0
    for vignette_id in drawn:
        for stage in quiz.vignette(vignette_id).stages:
            expected += [(page, vignette_id, q.id) for q in stage.questions]
            page += 1
    assert [(item.page, item.vignette_id, item.question_id) for item in plan] == expected


def test_two_cases_of_two_and_three_stages_take_five_pages():
    plan = plan_attempt(case_quiz(per_attempt=2), Counter({"v3": 1}), random.Random(7))
    assert sorted(item.page for item in plan) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


@pytest.mark.parametrize("seed", SEEDS)
def test_practising_a_case_test_keeps_each_case_together_in_story_order(seed):
    quiz = case_quiz()
    mistakes = ["v2-2a", "v1-0b", "v2-0a", "v1-1a", "v2-0a", "weg", "v3-0b"]
    plan = plan_practice(quiz, mistakes, random.Random(seed))
    assert [item.question_id for item in plan] == ["v1-0b", "v1-1a", "v2-0a", "v2-2a", "v3-0b"]
    assert [item.vignette_id for item in plan] == ["v1", "v1", "v2", "v2", "v3"]
    assert {item.page for item in plan} == {0}


def test_practising_a_plain_quiz_shuffles_the_mistakes_once_each():
    quiz = drawn_quiz()
    orders = set()
    for seed in SEEDS:
        plan = plan_practice(quiz, ["p1", "p2", "r0", "p1", "onbekend"], random.Random(seed))
        assert sorted(item.question_id for item in plan) == ["p1", "p2", "r0"]
        assert all(item.vignette_id is None and item.page == 0 for item in plan)
        orders.add(tuple(item.question_id for item in plan))
    assert len(orders) > 1


def test_true_false_keeps_waar_first_and_other_questions_are_shuffled():
    tf = question("tf", qtype="true_false")
    assert {display_order(tf, random.Random(seed)) for seed in SEEDS} == {("a", "b")}
    orders = {display_order(question("sc"), random.Random(seed)) for seed in SEEDS}
    assert len(orders) > 1 and all(sorted(order) == ["a", "b", "c", "d"] for order in orders)
    matching = Question(
        id="m",
        type="matching",
        section="1",
        prompt="?",
        categories=(Category("x", "X"),),
        items=tuple(MatchItem(str(n), "", "x", "") for n in range(1, 5)),
    )
    orders = {display_order(matching, random.Random(seed)) for seed in SEEDS}
    assert len(orders) > 1 and all(sorted(order) == ["1", "2", "3", "4"] for order in orders)

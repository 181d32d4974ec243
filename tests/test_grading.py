"""Grading is pure: one function per question type, checked by examples and by invariants."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from course.quizzes.definitions import Category, MatchItem, Option, Question
from course.quizzes.grading import GRADERS, grade, key_of


def choice(qtype: str, correct: list[bool]) -> Question:
    options = tuple(Option(chr(97 + i), f"optie {i}", c, f"uitleg {i}") for i, c in enumerate(correct))
    return Question(id="q", type=qtype, section="2.1", prompt="?", options=options)


def matching(categories: list[str]) -> Question:
    cats = tuple(Category(c, c.upper()) for c in sorted(set(categories) | {"x", "y"}))
    items = tuple(MatchItem(str(i + 1), f"item {i}", c, "uitleg") for i, c in enumerate(categories))
    return Question(id="m", type="matching", section="1", prompt="?", categories=cats, items=items)


def test_every_question_type_has_a_grader():
    assert set(GRADERS) == {"single_choice", "multiple_response", "true_false", "matching"}


def test_single_choice_scores_one_for_the_key_and_zero_otherwise():
    q = choice("single_choice", [False, True, False])
    assert grade(q, "b").score == 1.0 and grade(q, "b").correct
    assert grade(q, "a").score == 0.0 and grade(q, "a").answered
    assert grade(q, None).answered is False
    assert grade(q, "z").score == 0.0  # unknown option: not an answer


def test_multiple_response_partial_credit_rule():
    q = choice("multiple_response", [True, True, False, False])
    assert grade(q, ["a", "b"]).score == 1.0
    assert grade(q, ["a"]).score == 0.5
    assert grade(q, ["a", "c"]).score == 0.0  # one right, one wrong cancel out
    assert grade(q, ["a", "b", "c"]).score == 0.5
    assert grade(q, ["a", "b", "c", "d"]).score == 0.0  # ticking everything earns nothing
    assert grade(q, ["c", "d"]).score == 0.0  # never below zero
    assert not grade(q, ["a"]).correct


def test_matching_scores_the_share_of_items_placed_right():
    q = matching(["ouder", "kind", "gezin", "ouder"])
    assert grade(q, {"1": "ouder", "2": "kind", "3": "gezin", "4": "ouder"}).score == 1.0
    assert grade(q, {"1": "ouder", "2": "kind"}).score == 0.5
    assert grade(q, {"1": "kind"}).score == 0.0
    assert grade(q, {"1": "onbekend"}).answered is False


option_flags = st.lists(st.booleans(), min_size=3, max_size=8).filter(lambda f: any(f) and not all(f))


@given(option_flags, st.data())
def test_multiple_response_invariants(flags, data):
    q = choice("multiple_response", flags)
    ids = [o.id for o in q.options]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True))
    result = grade(q, chosen)
    assert 0.0 <= result.score <= 1.0
    assert result.correct == (result.score == 1.0)
    assert grade(q, key_of(q)).score == 1.0
    # Adding a wrong option never raises the score; adding a right one never lowers it.
    wrong = [o.id for o in q.options if not o.correct and o.id not in chosen]
    right = [o.id for o in q.options if o.correct and o.id not in chosen]
    if wrong:
        assert grade(q, [*chosen, wrong[0]]).score <= result.score
    if right:
        assert grade(q, [*chosen, right[0]]).score >= result.score


@given(st.lists(st.sampled_from(["ouder", "kind", "gezin", "stabiliteit"]), min_size=2, max_size=8), st.data())
def test_matching_invariants(categories, data):
    q = matching(categories)
    cat_ids = [c.id for c in q.categories]
    response = data.draw(st.dictionaries(st.sampled_from([i.id for i in q.items]), st.sampled_from(cat_ids)))
    result = grade(q, response)
    assert 0.0 <= result.score <= 1.0
    assert result.correct == (result.score == 1.0)
    assert grade(q, key_of(q)).correct
    # Order of the answers does not matter.
    assert grade(q, dict(reversed(list(response.items())))).score == result.score


@given(
    st.lists(st.booleans(), min_size=2, max_size=6).filter(lambda f: sum(f) == 1),
    st.one_of(st.none(), st.text(max_size=3)),
)
def test_single_choice_gives_full_credit_only_for_the_key(flags, response):
    q = choice("single_choice", flags)
    result = grade(q, response)
    assert result.score in (0.0, 1.0)
    assert result.correct == (response == key_of(q))


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(min_size=2),
        st.lists(st.integers()),
        st.dictionaries(st.text(), st.integers()),
    )
)
def test_garbage_responses_never_raise_and_score_zero(garbage):
    for q in (
        choice("single_choice", [True, False]),
        choice("multiple_response", [True, False, False]),
        matching(["ouder", "kind"]),
    ):
        assert grade(q, garbage).score == 0.0

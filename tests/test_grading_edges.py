"""Grading at the edges: a question left open or answered with rubbish counts as "not answered" (no
points, not correct), and any real answer counts as answered, right or wrong. The result page and
the "you left questions open" warning rely on that distinction."""

from __future__ import annotations

import pytest

from course.quizzes.definitions import Category, MatchItem, Option, Question
from course.quizzes.grading import Result, grade

NOT_ANSWERED = Result(0.0, False, False)


def multiple() -> Question:
    options = (
        Option("a", "juist 1", True, ""),
        Option("b", "juist 2", True, ""),
        Option("c", "onjuist", False, ""),
    )
    return Question(id="mr", type="multiple_response", section="1", prompt="?", options=options)


def matching() -> Question:
    categories = (Category("ouder", "Ouder"), Category("kind", "Kind"))
    items = (MatchItem("1", "item 1", "ouder", ""), MatchItem("2", "item 2", "kind", ""))
    return Question(id="m", type="matching", section="1", prompt="?", categories=categories, items=items)


@pytest.mark.parametrize("response", [None, "a", 3, {"a": True}])
def test_multiple_response_that_is_no_list_is_not_answered(response):
    assert grade(multiple(), response) == NOT_ANSWERED


@pytest.mark.parametrize("response", [[], ["z"], ("x", "y")])
def test_multiple_response_without_a_known_option_is_not_answered(response):
    assert grade(multiple(), response) == NOT_ANSWERED


def test_multiple_response_counts_as_answered_whether_right_or_wrong():
    assert grade(multiple(), ["a", "b"]) == Result(1.0, True, True)
    assert grade(multiple(), ["c"]) == Result(0.0, False, True)
    assert grade(multiple(), ["a", "z"]) == Result(0.5, False, True)  # the unknown id is ignored


@pytest.mark.parametrize("response", [None, "1", ["1", "ouder"], 7])
def test_matching_response_that_is_no_mapping_is_not_answered(response):
    assert grade(matching(), response) == NOT_ANSWERED


@pytest.mark.parametrize("response", [{}, {"9": "ouder"}, {"1": "onbekend"}, {"9": "nergens"}])
def test_matching_without_a_known_item_in_a_known_category_is_not_answered(response):
    assert grade(matching(), response) == NOT_ANSWERED


def test_matching_counts_as_answered_whether_right_or_wrong():
    assert grade(matching(), {"1": "ouder", "2": "kind"}) == Result(1.0, True, True)
    assert grade(matching(), {"1": "kind", "2": "ouder"}) == Result(0.0, False, True)
    assert grade(matching(), {"1": "ouder"}) == Result(0.5, False, True)

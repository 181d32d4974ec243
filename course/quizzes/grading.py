"""Pure grading: one function per question type, registered by type name.

A response is in definition terms (option ids "a", "b"…; matching: item id -> category id),
never in display positions; turning a form into a response is responses.py's job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from course.quizzes.definitions import Question


@dataclass(frozen=True)
class Result:
    score: float  # 0.0 .. 1.0 points
    correct: bool  # the full key was given
    answered: bool


Grader = Callable[[Question, Any], Result]


def grade(question: Question, response: Any) -> Result:
    return GRADERS[question.type](question, response)


def grade_single(question: Question, response: Any) -> Result:
    if not isinstance(response, str) or question.option(response) is None:
        return Result(0.0, False, False)
    correct = question.option(response).correct
    return Result(1.0 if correct else 0.0, correct, True)


def grade_multiple(question: Question, response: Any) -> Result:
    """(correct chosen - incorrect chosen) / number correct, floored at 0; exact set scores 1."""
    if not isinstance(response, list | tuple | set | frozenset):
        return Result(0.0, False, False)
    chosen = {option_id for option_id in response if question.option(option_id) is not None}
    if not chosen:
        return Result(0.0, False, False)
    key = {o.id for o in question.options if o.correct}
    hits = len(chosen & key)
    misses = len(chosen - key)
    score = max(0.0, (hits - misses) / len(key))
    return Result(score, chosen == key, True)


def grade_matching(question: Question, response: Any) -> Result:
    """The share of items placed in their category."""
    if not isinstance(response, Mapping):
        return Result(0.0, False, False)
    placed = {
        item_id: category
        for item_id, category in response.items()
        if question.item(item_id) is not None and question.category(category) is not None
    }
    if not placed:
        return Result(0.0, False, False)
    right = sum(1 for item in question.items if placed.get(item.id) == item.category)
    return Result(right / len(question.items), right == len(question.items), True)


# A plain table rather than a registering decorator: mutation testing (mutmut) skips decorated functions.
GRADERS: dict[str, Grader] = {
    "single_choice": grade_single,
    "true_false": grade_single,
    "multiple_response": grade_multiple,
    "matching": grade_matching,
}


def key_of(question: Question) -> Any:
    """The full-credit response for `question` (for review pages and tests)."""
    if question.type == "multiple_response":
        return sorted(o.id for o in question.options if o.correct)
    if question.type == "matching":
        return {item.id: item.category for item in question.items}
    return next(o.id for o in question.options if o.correct)

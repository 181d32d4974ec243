"""Turn a posted attempt form into responses in definition terms, rejecting anything tampered.

Field names are `q<position>` (and `q<position>-<n>` for matching rows); values are display
positions, so option ids and keys never appear in the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from werkzeug.datastructures import MultiDict

from course.quizzes.definitions import Question

FLAG_FIELD = "flag"  # "markeer voor later": values are positions of the open page's questions
# "decision" (the way on in a branching case) is checked by attempts.parse_decision.
CONTROL_FIELDS = {"csrf_token", "revision", "action", "confirm_incomplete", "decision", FLAG_FIELD}
_FIELD = re.compile(r"^q([0-9]{1,4})(?:-([0-9]{1,3}))?$")


class TamperedSubmission(ValueError):
    """The form does not fit the attempt: unknown fields, values or locked questions."""


def parse_form(form: MultiDict, editable: Iterable[tuple[Any, Question]]) -> dict[int, Any]:
    """Responses for the editable items, keyed by item position; None for unanswered.

    `editable` yields (item, question) pairs where item has .position and .option_order.
    """
    items = {item.position: (item, question) for item, question in editable}
    for name in form:
        if name in CONTROL_FIELDS:
            continue
        match = _FIELD.match(name)
        if not match or int(match.group(1)) not in items:
            raise TamperedSubmission(f"onbekend veld {name!r}")
        item, question = items[int(match.group(1))]
        row = match.group(2)
        if (question.type == "matching") != (row is not None) or (
            row is not None and int(row) >= len(item.option_order)
        ):
            raise TamperedSubmission(f"veld {name!r} past niet bij de vraag")
    return {position: _parse_item(form, item, question) for position, (item, question) in items.items()}


def _index(value: str, order: list[str]) -> str:
    if not (value.isascii() and value.isdigit()) or len(value) > 4 or int(value) >= len(order):
        raise TamperedSubmission("waarde buiten bereik")
    return order[int(value)]


def _parse_item(form: MultiDict, item: Any, question: Question) -> Any:
    name = f"q{item.position}"
    order = list(item.option_order)
    if question.type in ("single_choice", "true_false"):
        values = form.getlist(name)
        if len(values) > 1:
            raise TamperedSubmission("meer dan één antwoord")
        return _index(values[0], order) if values else None
    if question.type == "multiple_response":
        values = form.getlist(name)
        if len(values) != len(set(values)):
            raise TamperedSubmission("dubbele waarde")
        chosen = sorted(_index(v, order) for v in values)
        return chosen or None
    # matching: one select per item row; value is a category id or "" (not chosen yet)
    categories = {c.id for c in question.categories}
    placed: dict[str, str] = {}
    for row, item_id in enumerate(order):
        values = form.getlist(f"{name}-{row}")
        if len(values) > 1:
            raise TamperedSubmission("meer dan één categorie")
        if values and values[0]:
            if values[0] not in categories:
                raise TamperedSubmission("onbekende categorie")
            placed[item_id] = values[0]
    return placed or None


def parse_flags(form: MultiDict, editable: Iterable[tuple[Any, Question]]) -> set[int]:
    """Positions the learner marked "voor later" (field `flag`, one value per position) on the open page."""
    positions = {item.position for item, _ in editable}
    flags = form.getlist(FLAG_FIELD)
    if len(flags) != len(set(flags)):
        raise TamperedSubmission("dubbele markering")
    for value in flags:
        if not (value.isascii() and value.isdigit()) or len(value) > 4 or int(value) not in positions:
            raise TamperedSubmission("markering past niet bij de poging")
    return {int(value) for value in flags}

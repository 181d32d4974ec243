"""Reading a posted attempt form: display positions become answers in definition terms, and anything
the page could not have sent (a position past the last option, two answers to a one-answer question,
unknown fields or categories) is refused as tampered, never stored and never a server error."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from werkzeug.datastructures import MultiDict

from course.quizzes.definitions import Category, MatchItem, Option, Question
from course.quizzes.responses import TamperedSubmission, parse_form


@dataclass
class Item:
    position: int
    option_order: tuple[str, ...]


def options(qtype: str, count: int) -> Question:
    opts = tuple(Option(chr(97 + n), f"optie {n}", n == 0, "") for n in range(count))
    return Question(id=qtype, type=qtype, section="1", prompt="?", options=opts)


SINGLE = options("single_choice", 3)
MULTIPLE = options("multiple_response", 3)
TRUE_FALSE = options("true_false", 2)
MATCHING = Question(
    id="m",
    type="matching",
    section="1",
    prompt="?",
    categories=(Category("ouder", "Ouder"), Category("kind", "Kind")),
    items=(MatchItem("1", "een", "ouder", ""), MatchItem("2", "twee", "kind", ""), MatchItem("3", "drie", "kind", "")),
)


def editable():
    return [
        (Item(1, ("c", "a", "b")), SINGLE),
        (Item(2, ("b", "c", "a")), MULTIPLE),
        (Item(3, ("a", "b")), TRUE_FALSE),
        (Item(4, ("3", "1", "2")), MATCHING),
    ]


def parse(*pairs: tuple[str, str]):
    return parse_form(MultiDict(pairs), editable())


def test_positions_become_option_ids_in_the_order_shown():
    answers = parse(("q1", "0"), ("q2", "2"), ("q2", "0"), ("q3", "1"), ("q4-0", "kind"), ("q4-2", "ouder"))
    assert answers == {1: "c", 2: ["a", "b"], 3: "b", 4: {"3": "kind", "2": "ouder"}}


def test_unanswered_questions_are_none_and_control_fields_are_ignored():
    answers = parse(("csrf_token", "x"), ("revision", "3"), ("action", "save"), ("confirm_incomplete", "1"))
    assert answers == {1: None, 2: None, 3: None, 4: None}


def test_a_matching_question_with_rows_left_open_keeps_the_rows_that_were_chosen():
    assert parse(("q4-0", ""), ("q4-1", "ouder"), ("q4-2", ""))[4] == {"1": "ouder"}
    assert parse(("q4-0", ""), ("q4-1", ""))[4] is None


def test_the_last_option_is_accepted_and_one_past_it_is_refused():
    assert parse(("q1", "2"))[1] == "b"
    with pytest.raises(TamperedSubmission):
        parse(("q1", "3"))  # as many as there are options: one past the end
    with pytest.raises(TamperedSubmission):
        parse(("q3", "2"))
    with pytest.raises(TamperedSubmission):
        parse(("q2", "0"), ("q2", "3"))


@pytest.mark.parametrize("value", ["-1", "", "1.0", "x", "٣", "00001", " 1"])
def test_a_value_that_is_no_plain_position_is_refused(value):
    with pytest.raises(TamperedSubmission):
        parse(("q1", value))


@pytest.mark.parametrize(
    "pairs",
    [
        [("q1", "0"), ("q1", "1")],  # two answers to a one-answer question
        [("q3", "0"), ("q3", "0")],
        [("q2", "1"), ("q2", "1")],  # the same option twice
        [("q4-0", "ouder"), ("q4-0", "kind")],  # two categories for one row
        [("q4-1", "onbekend")],
        [("q4-3", "ouder")],  # a row the question does not have
        [("q4", "ouder")],  # a matching question without its row
        [("q1-0", "0")],  # a row on a question without rows
        [("q9", "0")],  # a question not in this attempt (or locked)
        [("naam", "x")],
    ],
)
def test_what_the_page_cannot_send_is_refused(pairs):
    with pytest.raises(TamperedSubmission):
        parse(*pairs)

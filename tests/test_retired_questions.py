"""A finished attempt stays reviewable after its questions leave the bank (a new content version
replaces cases): the attempt keeps its content version, score and per-question result."""

from __future__ import annotations

from dataclasses import replace

import pytest

from course.models import Role
from course.quizzes.presenting import RETIRED_TEXT
from tests.quiz_helpers import attempt_id_from, catalog, complete, load_attempt, start

CASES = "casustoets"


@pytest.fixture
def learner(login_as):
    return login_as(Role.LEARNER)


def bank_without(app, monkeypatch, quiz_id: str, gone: set[str]) -> None:
    """The catalog of a later content version: the cases holding `gone` questions are replaced."""
    current = app.extensions["catalog"]
    quiz = current.quiz(quiz_id)
    kept = tuple(v for v in quiz.vignettes if not any(q.id in gone for q in v.questions))
    changed = replace(quiz, vignettes=kept, _by_id={})
    quizzes = tuple(changed if q.id == quiz_id else q for q in current.quizzes)
    monkeypatch.setitem(app.extensions, "catalog", replace(current, quizzes=quizzes))


def test_a_finished_case_attempt_is_reviewable_after_its_cases_were_replaced(app, client, learner, monkeypatch):
    response = start(client, CASES)
    attempt_id = attempt_id_from(response)
    complete(app, client, attempt_id, right=True)
    attempt, items = load_attempt(app, attempt_id)
    assert attempt.content_version == catalog(app).module.content_version
    gone = {items[0].question_id}

    bank_without(app, monkeypatch, CASES, gone)
    page = client.get(f"/pogingen/{attempt_id}/resultaat")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert RETIRED_TEXT in html
    assert f"{attempt.percent:g}%" in html
    retired_cases = sum(1 for item in items if item.vignette_id == items[0].vignette_id)
    assert html.count(RETIRED_TEXT) == retired_cases

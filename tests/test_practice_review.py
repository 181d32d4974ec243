"""Practising mistakes follows the quiz's review policy (issue 10, finding 5): the key of a graded
quiz reaches no page before the policy shows it, and practice opens when it does."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from course.extensions import db
from course.models import Attempt, AttemptMode, Role
from course.quizzes.definitions import ReviewPolicy
from course.quizzes.presenting import without_verdict
from tests.quiz_helpers import (
    attempt_id_from,
    catalog,
    complete,
    load_attempt,
    page_state,
    practise,
    start,
    with_policy,
)

GRADED = ["eindtoets", "casustoets"]  # both review after_pass by default
KEY_MARKERS = ["Juist antwoord.", "Juiste categorie:", "Goed ingedeeld.", "option-correct"]
NOT_YET = "pas als je de juiste antwoorden mag zien"


@pytest.fixture
def learner(login_as):
    return login_as(Role.LEARNER)


def begin(client, quiz_id: str) -> int:
    response = start(client, quiz_id)
    assert "/pogingen/" in response.headers["Location"]
    return attempt_id_from(response)


def explanations(app, attempt_id: int) -> list[str]:
    """Every explanation of every question in the attempt: the key in words (as the page words it: the
    page states each option's verdict itself, so a leading "Onjuist:" is not repeated)."""
    attempt, items = load_attempt(app, attempt_id)
    quiz = catalog(app).quiz(attempt.quiz_id)
    texts = []
    for item in items:
        question = quiz.question(item.question_id)
        texts += [without_verdict(option.explanation) for option in question.options]
        texts += [match_item.explanation for match_item in question.items]
    return texts


def leaks(page: str, secret: list[str]) -> list[str]:
    text = html.unescape(page)
    return [s for s in KEY_MARKERS + secret if s in text]


def practice_attempts(app) -> list[Attempt]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Attempt).where(Attempt.mode == AttemptMode.PRACTICE)))


@pytest.mark.parametrize("quiz_id", GRADED)
def test_after_a_failed_attempt_no_page_shows_the_key_and_practice_waits(app, client, learner, quiz_id):
    attempt_id = begin(client, quiz_id)
    assert "Niet geslaagd" in html.unescape(
        client.get(complete(app, client, attempt_id, right=False).headers["Location"]).get_data(as_text=True)
    )
    secret = explanations(app, attempt_id)

    detail = client.get(f"/toetsen/{quiz_id}").get_data(as_text=True)
    assert "Oefen mijn fouten" not in detail
    assert NOT_YET in detail
    result = client.get(f"/pogingen/{attempt_id}/resultaat").get_data(as_text=True)
    assert "Oefen mijn fouten" not in result
    assert "Niet goed beantwoord" in result  # right/wrong per question is what after_pass shows now

    # Posting the practice form anyway: a clear answer, and no practice round.
    refused = practise(client, quiz_id)
    assert refused.headers["Location"].endswith(f"/toetsen/{quiz_id}")
    after = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert NOT_YET in after
    assert practice_attempts(app) == []

    pages = {
        "overzicht": client.get("/toetsen").get_data(as_text=True),
        "toets": detail,
        "uitslag": result,
        "na oefenen": after,
        "export": client.get("/account/gegevens.json").get_data(as_text=True),
    }
    assert {name: leaks(page, secret) for name, page in pages.items()} == {name: [] for name in pages}


@pytest.mark.parametrize("quiz_id", GRADED)
def test_a_practice_round_started_earlier_hides_the_key_until_the_policy_shows_it(
    app, client, learner, monkeypatch, quiz_id
):
    # A round opened while the key was visible (here: another review policy; in real life the rules
    # of an older version): once the policy hides the key again, the round's pages hide it too.
    with_policy(app, monkeypatch, quiz_id, review=ReviewPolicy.IMMEDIATELY)
    complete(app, client, begin(client, quiz_id), right=False)
    practice_id = attempt_id_from(practise(client, quiz_id))
    with_policy(app, monkeypatch, quiz_id, review=ReviewPolicy.AFTER_PASS)
    secret = explanations(app, practice_id)

    question_page, _, _ = page_state(client, practice_id)
    assert leaks(question_page, secret) == []
    complete(app, client, practice_id, right=False)
    result = client.get(f"/pogingen/{practice_id}/resultaat").get_data(as_text=True)
    assert "oefenronde" in result
    assert leaks(result, secret) == []
    # Nor can the learner start over: the round is closed and practice waits for the policy.
    assert practise(client, quiz_id).headers["Location"].endswith(f"/toetsen/{quiz_id}")


@pytest.mark.parametrize("quiz_id", GRADED)
def test_once_passed_practice_opens_and_shows_keys_and_explanations(app, client, learner, monkeypatch, quiz_id):
    with_policy(app, monkeypatch, quiz_id, cooldown_minutes=0)
    failed_id = begin(client, quiz_id)
    complete(app, client, failed_id, right=False)
    complete(app, client, begin(client, quiz_id), right=True)

    assert "Oefen mijn fouten" in client.get(f"/toetsen/{quiz_id}").get_data(as_text=True)
    practice = practise(client, quiz_id)
    assert "/pogingen/" in practice.headers["Location"]
    practice_id = attempt_id_from(practice)
    _, failed_items = load_attempt(app, failed_id)
    _, practice_items = load_attempt(app, practice_id)
    assert {i.question_id for i in practice_items} == {i.question_id for i in failed_items}

    complete(app, client, practice_id, right=False)
    result = html.unescape(client.get(f"/pogingen/{practice_id}/resultaat").get_data(as_text=True))
    assert "Juist antwoord." in result or "Juiste categorie:" in result
    assert all(text in result for text in explanations(app, practice_id))


def test_out_of_attempts_practice_opens_with_the_key(app, client, learner, monkeypatch):
    with_policy(app, monkeypatch, "eindtoets", max_attempts=1)
    complete(app, client, begin(client, "eindtoets"), right=False)
    practice_id = attempt_id_from(practise(client, "eindtoets"))
    complete(app, client, practice_id, right=False)
    result = html.unescape(client.get(f"/pogingen/{practice_id}/resultaat").get_data(as_text=True))
    assert all(text in result for text in explanations(app, practice_id))


def test_a_quiz_that_never_shows_its_key_offers_no_practice(app, client, learner, monkeypatch):
    with_policy(app, monkeypatch, "eindtoets", review=ReviewPolicy.NEVER, cooldown_minutes=0)
    complete(app, client, begin(client, "eindtoets"), right=False)
    complete(app, client, begin(client, "eindtoets"), right=True)  # passed: still secret
    refused = practise(client, "eindtoets")
    assert refused.headers["Location"].endswith("/toetsen/eindtoets")
    assert "blijven de juiste antwoorden geheim" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert practice_attempts(app) == []


def test_knowledge_checks_keep_practice_with_feedback(app, client, learner):
    complete(app, client, begin(client, "kennischeck-kenmerken-ouder"), right=False)
    practice_id = attempt_id_from(practise(client, "kennischeck-kenmerken-ouder"))
    complete(app, client, practice_id, right=False)
    result = html.unescape(client.get(f"/pogingen/{practice_id}/resultaat").get_data(as_text=True))
    assert all(text in result for text in explanations(app, practice_id))

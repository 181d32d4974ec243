"""Reviewing an attempt: the verdict first, each choice labelled in words, nothing said twice."""

from __future__ import annotations

import html
import re
from pathlib import Path

from course.models import Role
from tests.quiz_helpers import attempt_id_from, catalog, complete, load_attempt, start

FORMATIVE = "kennischeck-kenmerken-ouder"
CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "app.css"


def review_of(app, client, right: bool) -> tuple[str, list[str]]:
    attempt_id = attempt_id_from(start(client, FORMATIVE))
    complete(app, client, attempt_id, right=right)
    page = client.get(f"/pogingen/{attempt_id}/resultaat").get_data(as_text=True)
    _, items = load_attempt(app, attempt_id)
    questions = re.findall(r'<fieldset class="question[^"]*" id="vraag-\d+".*?</fieldset>', page, re.S)
    assert len(questions) == len(items)
    return page, questions


def feedback_texts(question: str) -> list[str]:
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", f)).split())
        for f in re.findall(r'<p class="feedback">(.*?)</p>', question, re.S)
    ]


def test_the_verdict_comes_before_the_choices_and_their_explanations(app, client, login_as):
    login_as(Role.LEARNER)
    _, questions = review_of(app, client, right=False)
    for question in questions:
        assert question.index('class="verdict') < question.index('class="option')
        assert "Niet goed beantwoord." in question


def test_a_wrong_choice_and_the_right_one_are_each_labelled_in_words(app, client, login_as):
    login_as(Role.LEARNER)
    _, questions = review_of(app, client, right=False)
    single_choice = [q for q in questions if 'type="radio"' in q]
    assert single_choice
    for question in single_choice:
        wrong = re.findall(r'<li class="option option-wrong">.*?</li>', question, re.S)
        right = re.findall(r'<li class="option option-correct">.*?</li>', question, re.S)
        assert len(wrong) == 1 and len(right) == 1
        assert feedback_texts(wrong[0])[0].startswith("Onjuist antwoord. Gekozen.")
        assert feedback_texts(right[0])[0].startswith("Juist antwoord. Niet gekozen.")


def test_no_verdict_is_said_twice(app, client, login_as):
    login_as(Role.LEARNER)
    for right in (False, True):
        _, questions = review_of(app, client, right=right)
        for question in questions:
            for feedback in feedback_texts(question):
                # Not "Onjuist. (jouw keuze) Onjuist: ...": the label once, then the explanation itself.
                assert not re.search(r"\b(Juist|Onjuist)\s*:", feedback), feedback
                assert "(jouw keuze)" not in feedback


def test_the_explanations_keep_their_content_without_the_leading_verdict(app, client, login_as):
    login_as(Role.LEARNER)
    page, _ = review_of(app, client, right=False)
    text = html.unescape(page)
    for question in catalog(app).quiz(FORMATIVE).all_questions:
        for option in question.options:
            body = re.sub(r"^(Juist|Onjuist)\s*:\s*", "", option.explanation)
            assert body[:1].upper() + body[1:] in text


def test_a_wrong_choice_is_not_marked_by_grey_strike_through_alone():
    css = CSS.read_text(encoding="utf-8")
    wrong_rules = " ".join(re.findall(r"\.option-wrong[^{]*\{([^}]*)\}", css))
    assert "line-through" not in wrong_rules
    assert "border-color: var(--error)" in wrong_rules and "background: var(--error-bg)" in wrong_rules


def test_practice_is_not_offered_while_the_page_says_answers_come_after_passing(app, client, login_as):
    login_as(Role.LEARNER)
    attempt_id = attempt_id_from(start(client, "eindtoets"))
    complete(app, client, attempt_id, right=False)
    page = html.unescape(client.get(f"/pogingen/{attempt_id}/resultaat").get_data(as_text=True))
    assert "De juiste antwoorden met uitleg zie je zodra je geslaagd bent" in page
    assert "Oefen mijn fouten" not in page
    assert "Juist antwoord." not in page and "option-correct" not in page

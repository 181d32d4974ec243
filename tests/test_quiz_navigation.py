"""Finding one's way through an attempt: "Vraag x van n", the question panel, "markeer voor later",
the still-open list on finishing, and case stages that open where the new questions are (issue 14)."""

from __future__ import annotations

import re

import pytest

from course.models import Role
from tests.quiz_helpers import answer_fields, attempt_id_from, load_attempt, page_state, post_attempt, start

FORMATIVE = "kennischeck-kenmerken-ouder"
CASE = "casustoets"


@pytest.fixture
def learner(login_as):
    return login_as(Role.LEARNER)


def begin(client, quiz_id: str) -> int:
    response = start(client, quiz_id)
    assert response.status_code == 302
    return attempt_id_from(response)


def panel(html: str) -> str:
    return re.search(r'<nav class="question-panel".*?</nav>', html, re.S).group(0)


def flagged(app, attempt_id: int) -> set[int]:
    _, items = load_attempt(app, attempt_id)
    return {item.position for item in items if item.flagged}


def test_every_question_says_which_of_how_many_and_the_panel_links_to_each(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, items = load_attempt(app, attempt_id)
    html, _, _ = page_state(client, attempt_id)
    total = len(items)
    for number in range(1, total + 1):
        assert f"Vraag {number} van {total}</span>" in html
        assert f'id="vraag-{number}"' in html
    links = re.findall(r'href="#vraag-(\d+)"', panel(html))
    assert links == [str(n) for n in range(1, total + 1)]
    assert f"<span data-answered>0</span> van {total} beantwoord" in html
    assert html.count("– <span data-state>open</span>") == total


def test_the_answered_count_and_states_are_rendered_by_the_server(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, items = load_attempt(app, attempt_id)
    fields = answer_fields(app, attempt_id)
    first_two = {k: v for k, v in fields.items() if k.split("-")[0] in {"q0", "q1", "q2", "q3"}}
    answered_positions = {int(k.split("-")[0][1:]) for k in first_two}
    assert post_attempt(client, attempt_id, "save", first_two).status_code == 302

    html, _, _ = page_state(client, attempt_id)
    assert f"<span data-answered>{len(answered_positions)}</span> van {len(items)} beantwoord" in html
    assert panel(html).count("beantwoord</span>") == len(answered_positions)


def test_a_question_marked_for_later_stays_marked_after_a_reload_and_can_be_unmarked(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, items = load_attempt(app, attempt_id)
    second = items[1]
    assert post_attempt(client, attempt_id, "save", {"flag": str(second.position)}).status_code == 302
    assert flagged(app, attempt_id) == {second.position}

    html, _, _ = page_state(client, attempt_id)
    assert re.search(rf'name="flag" value="{second.position}" checked', html)
    assert panel(html).count(", gemarkeerd") == 1

    # Unticked boxes post nothing: saving the page without the mark removes it.
    assert post_attempt(client, attempt_id, "save", {}).status_code == 302
    assert flagged(app, attempt_id) == set()


def test_an_autosave_carries_the_marks_too(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, items = load_attempt(app, attempt_id)
    response = post_attempt(
        client,
        attempt_id,
        "save",
        {"flag": [str(items[0].position), str(items[2].position)]},
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 200
    assert flagged(app, attempt_id) == {items[0].position, items[2].position}


@pytest.mark.parametrize("value", ["999", "x", "-1", "", "1²"])
def test_a_mark_for_a_question_not_on_the_page_is_refused_and_changes_nothing(app, client, learner, value):
    attempt_id = begin(client, FORMATIVE)
    before_attempt, before_items = load_attempt(app, attempt_id)
    fields = answer_fields(app, attempt_id)
    response = post_attempt(
        client, attempt_id, "save", {**fields, "flag": value}, headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 400
    assert "Het formulier past niet bij deze poging" in response.get_json()["error"]
    after_attempt, after_items = load_attempt(app, attempt_id)
    assert after_attempt.revision == before_attempt.revision
    assert [(i.response, i.flagged) for i in after_items] == [(i.response, i.flagged) for i in before_items]


def test_a_duplicated_mark_is_refused(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, items = load_attempt(app, attempt_id)
    position = str(items[0].position)
    response = post_attempt(client, attempt_id, "save", {"flag": [position, position]})
    assert response.status_code == 302
    assert flagged(app, attempt_id) == set()
    assert "Het formulier past niet bij deze poging" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_finishing_lists_the_unanswered_and_the_marked_questions_with_links(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, items = load_attempt(app, attempt_id)
    fields = answer_fields(app, attempt_id)
    skipped = items[0]
    marked = items[3]
    answers = {k: v for k, v in fields.items() if k.split("-")[0] != f"q{skipped.position}"}
    response = post_attempt(client, attempt_id, "finish", {**answers, "flag": str(marked.position)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/pogingen/{attempt_id}#afronden")
    attempt, _ = load_attempt(app, attempt_id)
    assert not attempt.is_finished

    html = client.get(f"/pogingen/{attempt_id}").get_data(as_text=True)
    assert "Je hebt nog 1 vraag niet beantwoord en 1 vraag gemarkeerd voor later." in html
    still_open = re.search(r'<div class="still-open".*?</div>', html, re.S).group(0)
    unanswered_list, marked_list = re.findall(r"<ul class=\"question-list\">(.*?)</ul>", still_open)
    assert re.findall(r'href="#vraag-(\d+)"', unanswered_list) == ["1"]
    assert re.findall(r'href="#vraag-(\d+)"', marked_list) == ["4"]
    assert 'name="confirm_incomplete"' in html


def test_all_answered_but_one_marked_still_asks_once(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, items = load_attempt(app, attempt_id)
    fields = {**answer_fields(app, attempt_id), "flag": str(items[1].position)}
    post_attempt(client, attempt_id, "finish", fields)
    attempt, _ = load_attempt(app, attempt_id)
    assert not attempt.is_finished
    _, revision, token = page_state(client, attempt_id)
    post_attempt(client, attempt_id, "finish", {**fields, "confirm_incomplete": "1"}, revision=revision, token=token)
    attempt, _ = load_attempt(app, attempt_id)
    assert attempt.is_finished and attempt.percent == 100


def test_after_a_case_stage_the_page_opens_at_the_new_stage_with_the_locked_one_folded(app, client, learner):
    attempt_id = begin(client, CASE)
    response = post_attempt(client, attempt_id, "next", answer_fields(app, attempt_id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/pogingen/{attempt_id}#deel-2")

    html, _, _ = page_state(client, attempt_id)
    assert re.search(r'<section class="attempt-block" id="deel-2" tabindex="-1"', html)
    locked = re.findall(r'<section class="attempt-block attempt-block-locked".*?</section>', html, re.S)
    assert locked
    for section in locked:
        assert '<details class="locked-stage">' in section
        assert "<summary>Deel 1" in section
        assert 'name="flag"' not in section  # locked answers cannot be marked any more
    # The panel covers the open stage only.
    _, items = load_attempt(app, attempt_id)
    open_numbers = [str(n) for n, item in enumerate(items, start=1) if item.page == 1]
    assert re.findall(r'href="#vraag-(\d+)"', panel(html)) == open_numbers


def test_an_unanswered_question_of_a_locked_case_stage_is_listed_without_a_link(app, client, learner):
    attempt_id = begin(client, CASE)
    _, items = load_attempt(app, attempt_id)
    last = max(item.page for item in items)
    skipped_number = 1  # the first question of the first stage stays unanswered
    fields = answer_fields(app, attempt_id)
    fields = {k: v for k, v in fields.items() if k.split("-")[0] != f"q{items[0].position}"}
    assert post_attempt(client, attempt_id, "next", fields).status_code == 302
    while load_attempt(app, attempt_id)[0].page < last:
        assert post_attempt(client, attempt_id, "next", answer_fields(app, attempt_id)).status_code == 302

    post_attempt(client, attempt_id, "finish", answer_fields(app, attempt_id))
    html = client.get(f"/pogingen/{attempt_id}").get_data(as_text=True)
    assert "Je hebt nog 1 vraag niet beantwoord." in html
    still_open = re.search(r'<div class="still-open".*?</div>', html, re.S).group(0)
    assert f"<li>Vraag {skipped_number} (afgesloten deel)</li>" in still_open
    assert "href=" not in still_open

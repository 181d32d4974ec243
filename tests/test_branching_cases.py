"""Branching cases: a stage may end with a decision, and the case goes on along the route the learner
chose. The decision is recorded once and not scored; every route is scored on the same blueprint."""

from __future__ import annotations

import random
import re
import shutil
from collections import Counter
from dataclasses import replace
from itertools import pairwise

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from config import Config
from course.catalog import ContentError, load_catalog
from course.extensions import db
from course.models import AttemptDecision, AttemptItem, AttemptMode, Role, User
from course.privacy import erase_user, export_user
from course.quizzes.definitions import ReviewPolicy
from course.quizzes.grading import grade, key_of
from course.quizzes.loader import path_profile
from course.quizzes.selection import plan_attempt, plan_stages
from tests.helpers import add_members, new_group, text
from tests.quiz_helpers import (
    answer_fields,
    attempt_id_from,
    complete,
    load_attempt,
    only_cases,
    open_decision,
    page_state,
    post_attempt,
    practise,
    start,
)

CASE_TEST = "casustoets"
BANK = load_catalog(Config.CONTENT_DIR, Config.QUIZZES_DIR).quiz(CASE_TEST)
BRANCHING = [v for v in BANK.vignettes if v.branching]
ROUTES = [(v.id, route) for v in BRANCHING for route in v.paths()]


def route_name(vignette, route) -> str:
    return "-".join(vignette.stages[i].id for i in route)


def route_questions(vignette, route):
    return [q for i in route for q in vignette.stages[i].questions]


def choices_along(vignette, route):
    """`choose` for tests.quiz_helpers.complete: at each decision, the place of the choice on `route`."""
    wanted = iter(
        next(n for n, c in enumerate(vignette.stages[i].decision.choices) if c.next == vignette.stages[after].id)
        for i, after in pairwise(route)
        if vignette.stages[i].decision
    )
    return lambda pending: next(wanted)


@pytest.fixture
def learner(login_as):
    return login_as(Role.LEARNER)


def only_case(app, monkeypatch, vignette_id: str, **policy) -> None:
    only_cases(app, monkeypatch, [vignette_id], **policy)


def begin(client) -> int:
    response = start(client, CASE_TEST)
    assert response.status_code == 302, response.get_data(as_text=True)
    return attempt_id_from(response)


def snapshot(app, attempt_id: int) -> tuple:
    attempt, items = load_attempt(app, attempt_id)
    with app.app_context():
        decisions = db.session.execute(
            sa.select(AttemptDecision.stage_id, AttemptDecision.choice).where(AttemptDecision.attempt_id == attempt_id)
        ).all()
    return (
        attempt.page,
        attempt.revision,
        attempt.status,
        [(i.position, i.page, i.question_id, i.response) for i in items],
        sorted(decisions),
    )


def unescaped(html: str) -> str:
    return html.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


# ---------------------------------------------------------------- the bank


def test_the_case_test_holds_at_least_three_branching_cases_of_two_routes_or_more():
    assert len(BRANCHING) >= 3
    for vignette in BRANCHING:
        assert vignette.id.startswith("cs-b-")
        assert len(vignette.paths()) >= 2
        # every stage lies on some route
        assert {i for route in vignette.paths() for i in route} == set(range(len(vignette.stages)))


@pytest.mark.parametrize("vignette", BRANCHING, ids=lambda v: v.id)
def test_every_route_of_a_branching_case_weighs_the_same_in_the_blueprint(vignette):
    routes = vignette.paths()
    first = path_profile(vignette, routes[0])
    assert first["stappen"] >= 3 and first["needs_case"] >= 2
    for route in routes[1:]:
        assert path_profile(vignette, route) == first


# ---------------------------------------------------------------- properties over every route


@st.composite
def responses(draw, question):
    """Any response a form can produce for `question`: nothing, one option, a set, a partial matching."""
    if question.type == "matching":
        categories = [c.id for c in question.categories]
        placed = draw(st.dictionaries(st.sampled_from([i.id for i in question.items]), st.sampled_from(categories)))
        return placed or None
    ids = [o.id for o in question.options]
    if question.type == "multiple_response":
        return sorted(draw(st.sets(st.sampled_from(ids)))) or None
    return draw(st.none() | st.sampled_from(ids))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_property_on_every_route_the_score_is_what_was_answered_out_of_the_same_maximum(data):
    vignette = data.draw(st.sampled_from(BRANCHING), label="case")
    routes = vignette.paths()
    route = data.draw(st.sampled_from(routes), label="route")
    questions = route_questions(vignette, route)
    answers = {q.id: data.draw(responses(q), label=q.id) for q in questions}
    points = sum(grade(q, answers[q.id]).score for q in questions)
    maximum = len(route_questions(vignette, routes[0]))
    assert len(questions) == maximum
    assert 0 <= points <= maximum
    assert sum(grade(q, key_of(q)).score for q in questions) == maximum
    assert Counter(q.section for q in questions) == Counter(q.section for q in route_questions(vignette, routes[0]))
    assert Counter(g for q in questions for g in q.goals) == Counter(
        g for q in route_questions(vignette, routes[0]) for g in q.goals
    )


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**64 - 1), data=st.data())
def test_property_the_chosen_stages_fill_exactly_the_places_and_pages_kept_free_for_them(seed, data):
    """Plan an attempt, then decide at random as the app does (ops._record_decision): the items end up
    numbered 1..n without gaps or overlaps, each case on as many consecutive pages as a route has."""
    quiz = replace(BANK, vignettes=tuple(BRANCHING) + BANK.vignettes[:3], require_covers=(), _by_id={})
    rng = random.Random(seed)
    plan = plan_attempt(quiz, Counter(), rng)
    drawn = list(dict.fromkeys(item.vignette_id for item in plan))
    expected_total = 0
    for vignette_id in drawn:
        vignette = quiz.vignette(vignette_id)
        route = data.draw(st.sampled_from(vignette.paths()), label=vignette_id)
        expected_total += len(route_questions(vignette, route))
        if not vignette.branching:
            continue
        first_page = min(item.page for item in plan if item.vignette_id == vignette_id)
        for step, (index, after) in enumerate(pairwise(route)):
            if vignette.stages[index].decision is None:
                continue
            position = max(item.position for item in plan if item.vignette_id == vignette_id) + 1
            plan += plan_stages(vignette, vignette.segment(after), first_page + step + 1, position, rng)
    positions = sorted(item.position for item in plan)
    assert positions == list(range(1, expected_total + 1))
    by_position = sorted(plan, key=lambda item: item.position)
    assert [item.page for item in by_position] == sorted(item.page for item in by_position)
    for vignette_id in drawn:
        pages = sorted({item.page for item in plan if item.vignette_id == vignette_id})
        assert pages == list(range(pages[0], pages[0] + quiz.vignette(vignette_id).path_length))


# ---------------------------------------------------------------- an attempt along every route


@pytest.mark.parametrize(
    ("vignette_id", "route"), ROUTES, ids=[f"{v}:{route_name(BANK.vignette(v), r)}" for v, r in ROUTES]
)
def test_an_attempt_follows_the_route_chosen_and_is_scored_on_it(app, client, learner, monkeypatch, vignette_id, route):
    only_case(app, monkeypatch, vignette_id)
    vignette = BANK.vignette(vignette_id)
    questions = route_questions(vignette, route)
    right = {q.id: n % 2 == 0 for n, q in enumerate(questions)}  # every other question wrong
    attempt_id = begin(client)

    complete(app, client, attempt_id, right, choose=choices_along(vignette, route))

    attempt, items = load_attempt(app, attempt_id)
    assert attempt.is_finished
    assert [i.question_id for i in items] == [q.id for q in questions]
    assert [i.page for i in items] == [n for n, i in enumerate(route) for _ in vignette.stages[i].questions]
    assert attempt.max_points == len(route_questions(vignette, vignette.paths()[0]))
    assert attempt.points == sum(right.values())
    with app.app_context():
        recorded = db.session.execute(
            sa.select(AttemptDecision.stage_id, AttemptDecision.choice).where(AttemptDecision.attempt_id == attempt_id)
        ).all()
    taken = [(vignette.stages[i].id, vignette.stages[a].id) for i, a in pairwise(route)]
    assert sorted(recorded) == sorted(t for t in taken if vignette.stages[vignette.stage_index(t[0])].decision)

    # The review shows the route: each decision with the choice made, and only the stages taken.
    review = unescaped(client.get(f"/pogingen/{attempt_id}/resultaat").get_data(as_text=True))
    for index, after in pairwise(route):
        decision = vignette.stages[index].decision
        if decision:
            assert f"Jouw keuze: {decision.choice(vignette.stages[after].id).text}" in review
            for other in decision.choices:
                if other.next != vignette.stages[after].id:
                    assert vignette.stages[vignette.stage_index(other.next)].text not in review
    assert 'name="decision"' not in review


def test_the_choices_are_on_the_page_but_no_key_or_route_ahead(app, client, learner, monkeypatch):
    vignette = BRANCHING[0]
    only_case(app, monkeypatch, vignette.id)
    attempt_id = begin(client)
    html = unescaped(page_state(client, attempt_id)[0])
    decision = vignette.stages[0].decision
    assert decision.prompt in html
    for n, choice in enumerate(decision.choices):
        assert choice.text in html
        assert f'name="decision" value="{n}"' in html
        assert choice.next not in re.findall(r'value="([^"]*)"', html)  # stage ids stay on the server
        assert vignette.stages[vignette.stage_index(choice.next)].text not in html
    for question in vignette.stages[0].questions:
        for option in question.options:
            assert option.explanation not in html
        for item in question.items:
            assert item.explanation not in html


def test_going_on_without_a_choice_saves_the_answers_but_stays_on_the_stage(app, client, learner, monkeypatch):
    only_case(app, monkeypatch, BRANCHING[0].id)
    attempt_id = begin(client)
    response = post_attempt(client, attempt_id, "next", answer_fields(app, attempt_id, right=True))
    assert response.status_code == 302
    attempt, items = load_attempt(app, attempt_id)
    assert attempt.page == 0
    assert all(i.response is not None for i in items if i.page == 0)
    assert "Kies eerst hoe je verdergaat" in client.get(f"/pogingen/{attempt_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptDecision)) == 0


def test_a_choice_made_while_autosaving_is_not_yet_a_decision(app, client, learner, monkeypatch):
    only_case(app, monkeypatch, BRANCHING[0].id)
    attempt_id = begin(client)
    fields = {**answer_fields(app, attempt_id, right=True), "decision": "1", "action": "save"}
    response = post_attempt(client, attempt_id, "save", fields, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 200
    attempt, _, pending = open_decision(app, attempt_id)
    assert attempt.page == 0 and pending is not None


@pytest.mark.parametrize(
    "value",
    [["2"], ["9"], ["-1"], ["x"], ["²"], ["0", "1"], [""], ["00"]],
    ids=["past the choices", "far out", "negative", "not a number", "unicode digit", "two", "empty", "padded"],
)
def test_a_tampered_decision_is_refused_and_changes_nothing(app, client, learner, monkeypatch, value):
    vignette = next(v for v in BRANCHING if len(v.stages[0].decision.choices) == 2)
    only_case(app, monkeypatch, vignette.id)
    attempt_id = begin(client)
    before = snapshot(app, attempt_id)
    fields = {**answer_fields(app, attempt_id, right=True), "decision": value}
    response = post_attempt(client, attempt_id, "next", fields, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400
    assert "past niet bij deze poging" in response.get_json()["error"]
    assert snapshot(app, attempt_id) == before


def test_a_decision_once_made_cannot_be_changed_by_replay_or_the_back_button(app, client, learner, monkeypatch):
    vignette = BRANCHING[0]
    only_case(app, monkeypatch, vignette.id)
    attempt_id = begin(client)
    _, old_revision, token = page_state(client, attempt_id)
    first = {**answer_fields(app, attempt_id, right=True), "decision": "0"}
    assert post_attempt(client, attempt_id, "next", first, old_revision, token).status_code == 302
    after = snapshot(app, attempt_id)

    # Replaying the stage's form with the other choice (the back button, then "verder" again): it
    # names a locked stage and a decision that is no longer open, so it is refused; nothing changes.
    for replay in ({**first, "decision": "1"}, {"decision": "1"}):
        response = post_attempt(
            client, attempt_id, "next", replay, old_revision, token, headers={"X-Requested-With": "fetch"}
        )
        assert response.status_code == 400
        assert snapshot(app, attempt_id) == after

    # With the current revision (a forged form): the decision is no longer open, refused as tampering.
    _, revision, token = page_state(client, attempt_id)
    forged = {**answer_fields(app, attempt_id, right=True), "decision": "1"}
    response = post_attempt(client, attempt_id, "next", forged, revision, token, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400
    assert snapshot(app, attempt_id) == after

    # Back on the page: the decision shows as made, with no choice to make.
    html = unescaped(client.get(f"/pogingen/{attempt_id}").get_data(as_text=True))
    assert f"Jouw keuze: {vignette.stages[0].decision.choices[0].text}" in html
    assert 'name="decision"' not in html


def test_finishing_with_a_decision_field_is_refused(app, client, learner, monkeypatch):
    only_case(app, monkeypatch, BRANCHING[0].id)
    attempt_id = begin(client)
    complete_upto_last = answer_fields(app, attempt_id, right=True)
    post_attempt(client, attempt_id, "next", {**complete_upto_last, "decision": "0"})
    attempt, last, _ = open_decision(app, attempt_id)
    while attempt.page < last:
        post_attempt(client, attempt_id, "next", answer_fields(app, attempt_id, right=True))
        attempt, last, _ = open_decision(app, attempt_id)
    before = snapshot(app, attempt_id)
    fields = {**answer_fields(app, attempt_id, right=True), "decision": "0"}
    response = post_attempt(client, attempt_id, "finish", fields, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400
    assert snapshot(app, attempt_id) == before


def test_practice_and_retake_after_a_branching_attempt(app, client, learner, monkeypatch):
    vignette = BRANCHING[0]
    route = vignette.paths()[-1]
    only_case(app, monkeypatch, vignette.id, review=ReviewPolicy.IMMEDIATELY, cooldown_minutes=0)
    questions = route_questions(vignette, route)
    wrong = {questions[0].id, questions[-1].id}
    attempt_id = begin(client)
    complete(
        app, client, attempt_id, {q.id: q.id not in wrong for q in questions}, choose=choices_along(vignette, route)
    )

    # "Oefen mijn fouten": the questions answered wrongly on the route taken, one page, no decisions.
    practice_id = attempt_id_from(practise(client, CASE_TEST))
    practice, items = load_attempt(app, practice_id)
    assert practice.mode is AttemptMode.PRACTICE
    assert {i.question_id for i in items} == wrong
    html = unescaped(page_state(client, practice_id)[0])
    assert 'name="decision"' not in html and "Jouw keuze" not in html
    last_stage = vignette.stages[route[-1]]
    assert last_stage.text in html
    assert vignette.stages[0].text in html  # the story so far: the stages every route shares
    complete(app, client, practice_id, right=True)
    assert load_attempt(app, practice_id)[0].is_finished

    # A retake starts afresh, at the first decision again.
    retake_id = begin(client)
    assert retake_id != attempt_id
    attempt, _, pending = open_decision(app, retake_id)
    assert attempt.page == 0 and pending is not None


def test_the_data_export_holds_the_decisions_and_erasure_removes_them(app, client, learner, monkeypatch):
    vignette = BRANCHING[0]
    only_case(app, monkeypatch, vignette.id)
    attempt_id = begin(client)
    complete(app, client, attempt_id, right=True)
    with app.app_context():
        person = db.session.get(User, learner.id)
        exported = export_user(person)
        (attempt,) = exported["attempts"]
        assert [(d["vignette_id"], d["stage_id"]) for d in attempt["decisions"]] == [(vignette.id, "start")]
        erase_user(person, None)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptDecision)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptItem)) == 0


# ---------------------------------------------------------------- the loader refuses unequal routes


def bank_copy(tmp_path):
    target = tmp_path / "q"
    shutil.copytree(Config.QUIZZES_DIR, target)
    return target


def edit_case(quizzes, vignette_id: str, change) -> None:
    path = quizzes / "casustoets.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(next(v for v in data["vignettes"] if v["id"] == vignette_id))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def refusal(quizzes) -> ContentError:
    with pytest.raises(ContentError) as excinfo:
        load_catalog(Config.CONTENT_DIR, quizzes)
    return excinfo.value


def stage(case: dict, stage_id: str) -> dict:
    return next(s for s in case["stages"] if s.get("id") == stage_id)


def second_branch(case: dict) -> str:
    return case["stages"][0]["decision"]["choices"][1]["next"]


def drop_a_question_from_the_second_branch(case):
    stage(case, second_branch(case))["questions"].pop()


def move_a_question_to_another_section(case):
    stage(case, second_branch(case))["questions"][0]["section"] = "5.1"


def swap_a_goal(case):
    stage(case, second_branch(case))["questions"][0]["goals"] = ["casus-stapeling"]


def shorten_the_second_route(case):
    stage(case, second_branch(case)).pop("next")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (drop_a_question_from_the_second_branch, "vragen (punten) verschilt"),
        (move_a_question_to_another_section, "secties verschilt"),
        (swap_a_goal, "doelen verschilt"),
        (shorten_the_second_route, "stappen verschilt"),
    ],
    ids=["points", "sections", "goals", "stages"],
)
def test_a_branching_case_whose_routes_weigh_differently_is_refused_naming_file_case_and_route(
    tmp_path, change, message
):
    vignette = BRANCHING[0]
    quizzes = bank_copy(tmp_path)
    edit_case(quizzes, vignette.id, change)
    error = refusal(quizzes)
    assert error.path.endswith("casustoets.yaml")
    assert error.problem.startswith(f"casus '{vignette.id}'.pad start → ")
    assert "regel: elk pad telt even zwaar in de toetsmatrijs" in error.problem
    assert message in error.problem


def to_a_missing_stage(case):
    case["stages"][0]["decision"]["choices"][0]["next"] = "nergens"


def in_a_circle(case):
    stage(case, second_branch(case))["next"] = second_branch(case)


def back_to_the_start(case):
    stage(case, second_branch(case))["next"] = "start"


def unreachable_stage(case):
    case["stages"][0]["decision"]["choices"][1]["next"] = case["stages"][0]["decision"]["choices"][0]["next"]


def one_choice(case):
    del case["stages"][0]["decision"]["choices"][1]


def decision_and_next(case):
    case["stages"][0]["next"] = "slot"


def stage_without_id(case):
    del case["stages"][-1]["id"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (to_a_missing_stage, "stap 'nergens' bestaat niet"),
        (in_a_circle, "regel: de route komt terug bij stap"),
        (back_to_the_start, "regel: terug naar de eerste stap kan niet"),
        (unreachable_stage, "regel: elke keuze heeft een eigen tekst en leidt naar een eigen stap"),
        (one_choice, "moet een lijst met minstens 2 element(en) zijn"),
        (decision_and_next, "regel: een stap eindigt met een keuze (decision) of met 'next', niet beide"),
        (stage_without_id, "ontbreekt of is geen tekst"),
    ],
    ids=["missing stage", "circle", "back to start", "same target twice", "one choice", "both", "no id"],
)
def test_a_broken_branching_case_is_refused_naming_file_case_and_rule(tmp_path, change, message):
    quizzes = bank_copy(tmp_path)
    edit_case(quizzes, BRANCHING[0].id, change)
    error = refusal(quizzes)
    assert error.path.endswith("casustoets.yaml")
    assert BRANCHING[0].id in error.problem
    assert message in error.problem


def test_a_stage_off_every_route_is_refused(tmp_path):
    quizzes = bank_copy(tmp_path)

    def orphan(case):
        extra = dict(stage(case, "slot"))
        extra["id"] = "los"
        extra["questions"] = [dict(q, id=f"{q['id']}-los") for q in extra["questions"]]
        case["stages"].append(extra)

    edit_case(quizzes, BRANCHING[0].id, orphan)
    error = refusal(quizzes)
    assert "stap 'los'" in error.problem and "regel: elke stap ligt op een route vanaf de eerste stap" in error.problem


def test_id_and_next_belong_to_branching_cases_only(tmp_path):
    linear = next(v for v in BANK.vignettes if not v.branching)
    quizzes = bank_copy(tmp_path)
    edit_case(quizzes, linear.id, lambda case: case["stages"][0].update(next="x"))
    error = refusal(quizzes)
    assert f"casus '{linear.id}'" in error.problem
    assert "regel: 'id' en 'next' horen alleen bij een casus met keuzes (decision)" in error.problem


# ---------------------------------------------------------------- trainers: review, item analysis, exports


def test_trainers_see_the_route_and_analyse_and_export_branching_attempts(app, person, monkeypatch):
    vignette = BRANCHING[0]
    only_case(app, monkeypatch, vignette.id)
    trainer, first, second = person(Role.TRAINER, "Tess Trainer"), person(name="Lea Een"), person(name="Bo Twee")
    group_id = new_group(trainer)
    add_members(trainer, group_id, first, second)
    attempts = []
    for learner, route in zip((first, second), vignette.paths()[:2], strict=True):
        attempt_id = attempt_id_from(start(learner.client, CASE_TEST))
        complete(app, learner.client, attempt_id, right=True, choose=choices_along(vignette, route))
        attempts.append((attempt_id, route))

    for attempt_id, route in attempts:
        review = unescaped(text(trainer.client.get(f"/trainer/groepen/{group_id}/pogingen/{attempt_id}")))
        chosen = vignette.stages[0].decision.choice(vignette.stages[route[1]].id)
        assert f"Jouw keuze: {chosen.text}" in review

    analysis = unescaped(text(trainer.client.get(f"/trainer/toetsen/{CASE_TEST}/analyse")))
    for route in vignette.paths()[:2]:
        for question in route_questions(vignette, route):
            assert question.prompt in analysis  # every question asked on either route has its row
    for export in ("accreditatie.csv", "accreditatie.xlsx"):
        assert trainer.client.get(f"/trainer/groepen/{group_id}/{export}").status_code == 200

"""Quiz attempts live on the server: frozen selection, hidden keys, autosave, exactly-once finish."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from course.extensions import db
from course.models import Attempt, AttemptMode, Role
from course.quizzes.presenting import without_verdict
from course.timeutil import utcnow
from tests.conftest import csrf_token
from tests.helpers import statements_during
from tests.quiz_helpers import (
    answer_fields,
    attempt_id_from,
    catalog,
    complete,
    load_attempt,
    only_cases,
    page_state,
    post_attempt,
    practise,
    start,
    with_policy,
)

FORMATIVE = "kennischeck-kenmerken-ouder"
FINAL = "eindtoets"


@pytest.fixture
def learner(login_as):
    return login_as(Role.LEARNER)


def begin(client, quiz_id: str) -> int:
    response = start(client, quiz_id)
    assert response.status_code == 302, response.get_data(as_text=True)
    return attempt_id_from(response)


def test_starting_freezes_questions_and_option_order(app, client, learner):
    attempt_id = begin(client, FINAL)
    _, items = load_attempt(app, attempt_id)
    quiz = catalog(app).quiz(FINAL)
    assert len(items) == sum(d.count for d in quiz.draw)
    first_html, _, first_token = page_state(client, attempt_id)
    second_html, _, second_token = page_state(client, attempt_id)
    # The CSRF token carries a timestamp in seconds: two requests may straddle a second.
    assert first_html.replace(first_token, "") == second_html.replace(second_token, "")
    for item in items:
        question = quiz.question(item.question_id)
        if question.type != "matching":
            texts = [question.option(oid).text for oid in item.option_order]
            positions = [first_html.index(f">{text}</label>") for text in texts]
            assert positions == sorted(positions), "options shown in the frozen order"


def test_starting_again_resumes_the_open_attempt(app, client, learner):
    first = begin(client, FINAL)
    assert begin(client, FINAL) == first


def test_no_keyed_answer_or_explanation_reaches_the_page_before_finishing(app, client, learner):
    for quiz_id in [FORMATIVE, FINAL, "casustoets"]:
        attempt_id = begin(client, quiz_id)
        html, _, _ = page_state(client, attempt_id)
        _, items = load_attempt(app, attempt_id)
        quiz = catalog(app).quiz(quiz_id)
        for item in items:
            question = quiz.question(item.question_id)
            for option in question.options:
                assert option.explanation not in html, question.id
            for match_item in question.items:
                assert match_item.explanation not in html, question.id
        assert "correct" not in html.lower()
        # Option values are display positions only; option ids and category keys per item are not shown.
        values = re.findall(r'<input type="(?:radio|checkbox)"[^>]*value="([^"]*)"', html)
        assert values and all(v.isdigit() for v in values)


def test_answers_autosave_and_come_back_on_reload(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    fields = answer_fields(app, attempt_id, right=True)
    response = post_attempt(client, attempt_id, "save", fields, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 200
    assert response.get_json()["revision"] == 1
    assert "correct" not in response.get_data(as_text=True)
    _, items = load_attempt(app, attempt_id)
    assert all(item.response is not None for item in items)
    html, revision, _ = page_state(client, attempt_id)
    assert revision == "1"
    assert html.count(" checked") >= sum(1 for v in fields.values() if not isinstance(v, list)) - 1


def test_a_stale_second_tab_is_refused_and_changes_nothing(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    _, old_revision, token = page_state(client, attempt_id)
    post_attempt(client, attempt_id, "save", answer_fields(app, attempt_id, right=True))  # first tab saves
    _, before = load_attempt(app, attempt_id)
    response = post_attempt(
        client, attempt_id, "finish", answer_fields(app, attempt_id, right=False), revision=old_revision, token=token
    )
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "in een ander venster of tabblad gewijzigd" in follow
    attempt, after = load_attempt(app, attempt_id)
    assert not attempt.is_finished
    assert [i.response for i in after] == [i.response for i in before]


def test_finishing_twice_gives_one_result(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    fields = answer_fields(app, attempt_id, right=True)
    _, revision, token = page_state(client, attempt_id)
    first = post_attempt(client, attempt_id, "finish", fields, revision=revision, token=token)
    assert first.headers["Location"].endswith("/resultaat")
    attempt, _ = load_attempt(app, attempt_id)
    second = post_attempt(
        client, attempt_id, "finish", answer_fields(app, attempt_id, right=False), revision=revision, token=token
    )
    assert "was al afgerond" in client.get(second.headers["Location"]).get_data(as_text=True)
    again, _ = load_attempt(app, attempt_id)
    assert (again.percent, again.finished_at, again.revision) == (
        attempt.percent,
        attempt.finished_at,
        attempt.revision,
    )


def test_concurrent_finish_requests_produce_exactly_one_result(app, learner, client):
    attempt_id = begin(client, FINAL)
    fields = answer_fields(app, attempt_id, right=True)
    _, revision, token = page_state(client, attempt_id)
    barrier = threading.Barrier(4)
    statuses: list[str] = []

    def submit():
        barrier.wait()
        response = post_attempt(client, attempt_id, "finish", fields, revision=revision, token=token)
        statuses.append(response.headers["Location"])

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        finished = db.session.scalars(sa.select(Attempt).where(Attempt.id == attempt_id)).one()
        assert finished.is_finished
        assert finished.revision == int(revision) + 1  # exactly one claim won
        assert finished.percent == 100.0
    assert len(statuses) == 4


@pytest.mark.parametrize(
    "tamper",
    [
        {"q999": "0"},
        {"q1": "99"},
        {"q1": "abc"},
        {"evil": "1"},
        {"q1-50": "ouder"},
    ],
    ids=["unknown question", "option out of range", "non-numeric value", "foreign field", "matching row out of range"],
)
def test_tampered_submissions_are_refused_and_change_nothing(app, client, learner, tamper):
    attempt_id = begin(client, FORMATIVE)
    fields = {**answer_fields(app, attempt_id, right=True), **tamper}
    response = post_attempt(client, attempt_id, "finish", fields, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400
    assert "past niet bij deze poging" in response.get_json()["error"]
    attempt, items = load_attempt(app, attempt_id)
    assert not attempt.is_finished and attempt.revision == 0
    assert all(item.response is None for item in items)


def test_a_missing_revision_is_refused(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    token = csrf_token(client, f"/pogingen/{attempt_id}")
    response = client.post(f"/pogingen/{attempt_id}/afronden", data={"csrf_token": token})
    assert response.status_code == 302
    attempt, _ = load_attempt(app, attempt_id)
    assert not attempt.is_finished


def test_nobody_else_can_see_or_answer_an_attempt(app, client, auth, create_user):
    owner, other = create_user(), create_user()
    auth.login(owner.email)
    attempt_id = begin(client, FORMATIVE)
    auth.logout()
    auth.login(other.email)
    assert client.get(f"/pogingen/{attempt_id}").status_code == 404
    assert client.get(f"/pogingen/{attempt_id}/resultaat").status_code == 404
    token = csrf_token(client, "/toetsen")
    assert (
        client.post(f"/pogingen/{attempt_id}/afronden", data={"csrf_token": token, "revision": "0"}).status_code == 404
    )
    assert client.get("/pogingen/999999").status_code == 404


def test_unanswered_questions_need_a_confirmation_before_finishing(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    fields = answer_fields(app, attempt_id, right=True)
    first_key = sorted(fields)[0]
    partial = {k: v for k, v in fields.items() if k != first_key}
    response = post_attempt(client, attempt_id, "finish", partial)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "niet beantwoord" in page
    assert 'name="confirm_incomplete"' in page
    attempt, _ = load_attempt(app, attempt_id)
    assert not attempt.is_finished
    _, revision, token = page_state(client, attempt_id)
    client.post(
        f"/pogingen/{attempt_id}/afronden",
        data={"csrf_token": token, "revision": revision, "confirm_incomplete": "1", **partial},
    )
    attempt, _ = load_attempt(app, attempt_id)
    assert attempt.is_finished
    assert attempt.percent < 100


def test_formative_feedback_shows_every_explanation_at_once(app, client, learner):
    attempt_id = begin(client, FORMATIVE)
    complete(app, client, attempt_id, right=False)
    html = client.get(f"/pogingen/{attempt_id}/resultaat").get_data(as_text=True)
    _, items = load_attempt(app, attempt_id)
    quiz = catalog(app).quiz(FORMATIVE)
    for item in items:
        question = quiz.question(item.question_id)
        for option in question.options:
            assert without_verdict(option.explanation) in html.replace("&#39;", "'").replace("&amp;", "&").replace(
                "&#34;", '"'
            )
        assert f'#{catalog(app).section(question.section).anchor}"' in html


def test_formative_checks_allow_unlimited_tries(app, client, learner):
    for _ in range(5):
        attempt_id = begin(client, FORMATIVE)
        complete(app, client, attempt_id, right=False)
    assert "Nieuwe poging starten" in client.get(f"/toetsen/{FORMATIVE}").get_data(as_text=True)


def test_final_test_hides_answers_until_passed(app, client, learner, monkeypatch):
    with_policy(app, monkeypatch, FINAL, cooldown_minutes=0)
    attempt_id = begin(client, FINAL)
    complete(app, client, attempt_id, right=False)
    failed = client.get(f"/pogingen/{attempt_id}/resultaat").get_data(as_text=True)
    assert "Niet geslaagd" in failed
    assert "Niet goed beantwoord" in failed
    assert "Juist antwoord." not in failed
    passed_id = begin(client, FINAL)
    complete(app, client, passed_id, right=True)
    passed = client.get(f"/pogingen/{passed_id}/resultaat").get_data(as_text=True)
    assert "Geslaagd" in passed and "Juist antwoord." in passed
    # Once passed, the earlier failed attempt can be reviewed with answers too.
    assert "Juist antwoord." in client.get(f"/pogingen/{attempt_id}/resultaat").get_data(as_text=True)


def test_a_retake_draws_different_questions_where_the_bank_allows(app, client, learner, monkeypatch):
    # One seeded draw end to end; tests/test_draws.py checks the rule for every draw.
    with_policy(app, monkeypatch, FINAL, cooldown_minutes=0)
    first = begin(client, FINAL)
    complete(app, client, first, right=False)
    second = begin(client, FINAL)
    _, items_1 = load_attempt(app, first)
    _, items_2 = load_attempt(app, second)
    assert {i.question_id for i in items_1}.isdisjoint({i.question_id for i in items_2})


def test_max_attempts_is_enforced(app, client, learner, monkeypatch):
    with_policy(app, monkeypatch, FINAL, max_attempts=2, cooldown_minutes=0)
    for _ in range(2):
        complete(app, client, begin(client, FINAL), right=False)
    response = start(client, FINAL)
    assert response.headers["Location"].endswith(f"/toetsen/{FINAL}")
    assert "geen pogingen meer over" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 2


def test_cooldown_blocks_a_new_attempt_until_it_has_passed(app, client, learner, monkeypatch):
    with_policy(app, monkeypatch, FINAL, cooldown_minutes=30)
    first = begin(client, FINAL)
    complete(app, client, first, right=False)
    assert "nieuwe poging starten vanaf" in client.get(start(client, FINAL).headers["Location"]).get_data(as_text=True)
    with app.app_context():
        db.session.execute(sa.update(Attempt).values(finished_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
    assert "/pogingen/" in start(client, FINAL).headers["Location"]


@pytest.mark.parametrize(("counts", "expected"), [("best", "100%"), ("last", "0%")])
def test_best_or_last_attempt_counts_per_policy(app, client, learner, monkeypatch, counts, expected):
    from course.quizzes.definitions import Counting

    with_policy(app, monkeypatch, FINAL, counts=Counting(counts), cooldown_minutes=0)
    complete(app, client, begin(client, FINAL), right=True)
    complete(app, client, begin(client, FINAL), right=False)
    row = re.search(
        r"Eindtoets</a></th>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", client.get("/toetsen").get_data(as_text=True)
    )
    assert row.group(1) == expected


def test_practise_my_mistakes_asks_exactly_the_wrong_questions_and_counts_for_nothing(app, client, learner):
    attempt_id = begin(client, FINAL)
    _, items = load_attempt(app, attempt_id)
    wrong = {items[0].question_id, items[3].question_id}
    complete(app, client, attempt_id, right={qid: qid not in wrong for qid in (i.question_id for i in items)})
    practice = practise(client, FINAL)
    practice_id = attempt_id_from(practice)
    attempt, practice_items = load_attempt(app, practice_id)
    assert attempt.mode is AttemptMode.PRACTICE
    assert {i.question_id for i in practice_items} == wrong
    complete(app, client, practice_id, right=True)
    # Practised right: nothing left to practise, and the graded record is untouched.
    assert "Oefen mijn fouten" not in client.get(f"/toetsen/{FINAL}").get_data(as_text=True)
    with app.app_context():
        graded = db.session.scalars(sa.select(Attempt).where(Attempt.mode == AttemptMode.GRADED)).all()
        assert len(graded) == 1 and graded[0].percent < 100


def test_practise_without_mistakes_says_so(app, client, learner):
    response = practise(client, FORMATIVE)
    assert "geen fouten om te oefenen" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_vignette_stages_unfold_and_lock(app, client, learner, monkeypatch):
    # Cases without a decision; a case that branches waits for a choice (tests/test_branching_cases.py).
    linear = [v.id for v in catalog(app).quiz("casustoets").vignettes if not v.branching][:3]
    only_cases(app, monkeypatch, linear)
    attempt_id = begin(client, "casustoets")
    attempt, items = load_attempt(app, attempt_id)
    quiz = catalog(app).quiz("casustoets")
    first_vignette = quiz.vignette(items[0].vignette_id)
    html, _, _ = page_state(client, attempt_id)
    assert first_vignette.stages[0].text[:60] in html.replace("&#39;", "'").replace("&#34;", '"')
    if len(first_vignette.stages) > 1:
        assert first_vignette.stages[1].text[:60] not in html.replace("&#39;", "'").replace("&#34;", '"')
    page0_fields = answer_fields(app, attempt_id, right=True)
    post_attempt(client, attempt_id, "next", page0_fields)
    attempt, _ = load_attempt(app, attempt_id)
    assert attempt.page == 1
    # Answers for the locked first stage are refused now.
    response = post_attempt(client, attempt_id, "save", page0_fields, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400


def test_a_vignette_retake_draws_other_cases(app, client, learner, monkeypatch):
    # One seeded draw end to end; tests/test_draws.py checks the rule for every draw.
    with_policy(app, monkeypatch, "casustoets", cooldown_minutes=0)
    first = begin(client, "casustoets")
    complete(app, client, first, right=False)
    second = begin(client, "casustoets")
    _, items_1 = load_attempt(app, first)
    _, items_2 = load_attempt(app, second)
    assert {i.vignette_id for i in items_1}.isdisjoint({i.vignette_id for i in items_2})


def test_attempt_history_lists_attempts_with_review_links(app, client, learner):
    first = begin(client, FINAL)
    complete(app, client, first, right=False)
    html = client.get(f"/toetsen/{FINAL}").get_data(as_text=True)
    assert "Eerdere pogingen" in html
    assert f"/pogingen/{first}/resultaat" in html


@pytest.mark.parametrize("quiz_id", ["kennischeck-inleiding", FINAL])
def test_submitting_uses_a_bounded_number_of_sql_statements(app, client, learner, quiz_id):
    attempt_id = begin(client, quiz_id)
    fields = answer_fields(app, attempt_id, right=True)
    _, revision, token = page_state(client, attempt_id)
    _, items = load_attempt(app, attempt_id)
    statements = statements_during(
        app, lambda: post_attempt(client, attempt_id, "finish", fields, revision=revision, token=token)
    )
    assert load_attempt(app, attempt_id)[0].is_finished
    # user, attempt, items, finish claim, bulk scores; a passed required test adds the
    # certificate check (certificates, lessons read, passes, certificate insert); a graded attempt
    # the trainer dashboards' lock on the learner and one look (this learner is in no group)
    assert len(statements) <= 14, (len(items), statements)


def test_the_submit_statement_count_does_not_grow_with_the_number_of_questions(app, client, learner):
    counts = {}
    for quiz_id in ["kennischeck-inleiding", "kennischeck-kenmerken-ouder", FINAL]:
        attempt_id = begin(client, quiz_id)
        fields = answer_fields(app, attempt_id, right=False)
        _, revision, token = page_state(client, attempt_id)
        counts[len(load_attempt(app, attempt_id)[1])] = len(
            statements_during(
                app,
                lambda a=attempt_id, f=fields, r=revision, t=token: post_attempt(
                    client, a, "finish", f, revision=r, token=t
                ),
            )
        )
    assert len(counts) == 3, "three different question counts"
    assert len(set(counts.values())) == 1, counts


@pytest.mark.parametrize("value", ["²", "٣", "9" * 30, "-1", " 1"])
def test_unusual_digits_in_answers_are_refused_not_crashing(app, client, learner, value):
    attempt_id = begin(client, FORMATIVE)
    fields = {**answer_fields(app, attempt_id, right=True), "q1": value}
    response = post_attempt(client, attempt_id, "save", fields, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400
    _, items = load_attempt(app, attempt_id)
    assert all(item.response is None for item in items)

"""The item analysis page shows a stored result with the moment it was computed (docs/decisions.md):
the first view of a scope computes and stores it, later views read it and count the finished attempts
that came since; "Nu opnieuw berekenen" (once a minute per scope) and `flask course
recompute-item-analyses` (only stale scopes) compute it again. What is stored is exactly what a fresh
computation gives; a stored result that does not parse or belongs to another version of the quiz is
recomputed, never shown and never a 500."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from course.catalog.access import get_catalog
from course.extensions import db
from course.models import AttemptMode, AttemptStatus, ItemAnalysisResult, Role
from course.trainer import item_analysis, stored_analysis
from tests.conftest import PASSWORD
from tests.helpers import add_members, new_group, post, seed_attempts, some_questions, statements_during, text

# The page's clock (Amsterdam is an hour ahead in December: 10:00 UTC reads as 11:00).
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PAGE = "/trainer/toetsen/eindtoets/analyse"


@pytest.fixture
def clock(monkeypatch):
    """The page's and the button's now, moved by the test."""
    now = {"at": T0}
    monkeypatch.setattr("course.trainer.views.utcnow", lambda: now["at"])
    return now


def tokenless(page: str) -> str:
    """The page without its CSRF tokens (signed anew on every request)."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r"\1", page)


def quiz_of(app):
    with app.app_context():
        return get_catalog().quiz("eindtoets")


def stored_rows(app) -> list[tuple]:
    with app.app_context():
        return [
            (row.trainer_id, row.quiz_id, row.scope, row.group_id, row.attempts, row.computed_at.replace(tzinfo=UTC))
            for row in db.session.scalars(sa.select(ItemAnalysisResult).order_by(ItemAnalysisResult.id))
        ]


def group_with_attempts(app, person, trainer, attempts: int, seed: int, **kw) -> tuple[int, object]:
    learner = person(Role.LEARNER, f"Cursist {seed}")
    group_id = new_group(trainer, f"Groep {seed}")
    add_members(trainer, group_id, learner)
    quiz = quiz_of(app)
    rng = random.Random(seed)
    seed_attempts(
        app, learner.id, quiz, rng, attempts, some_questions(quiz, rng, 12), finished_at=T0 - timedelta(days=1)
    )
    return group_id, learner


def test_the_stored_result_is_what_a_fresh_computation_gives(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, _ = group_with_attempts(app, person, trainer, 45, seed=3)
    page = text(trainer.client.get(f"{PAGE}?groep={group_id}"))
    assert "Berekend op 1 dec 2026 11:00 over 45 afgeronde pogingen." in page
    assert "nog niet meegeteld" not in page

    quiz = quiz_of(app)
    with app.app_context():
        totals = item_analysis.collect(db.session, item_analysis.attempts_of_groups(quiz.id, [group_id]))
        row = stored_analysis.stored_row(db.session, quiz.id, trainer.id, group_id)
        stored = stored_analysis.read(quiz, row)
    # Equal, not approximately: JSON keeps every digit of a float.
    assert stored.stats == item_analysis.item_stats(quiz, totals)
    assert stored.reliability == item_analysis.reliability_of(quiz, totals)
    assert stored.reliability.coefficient is not None
    assert (stored.attempts, stored.computed_at) == (45, T0)
    # The page read from the stored result shows the same as the first view that computed it.
    assert tokenless(text(trainer.client.get(f"{PAGE}?groep={group_id}"))) == tokenless(page)


def test_newer_attempts_are_counted_and_the_button_counts_them_once_a_minute(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, learner = group_with_attempts(app, person, trainer, 12, seed=4)
    url = f"{PAGE}?groep={group_id}"
    assert "over 12 afgeronde pogingen." in text(trainer.client.get(url))

    quiz = quiz_of(app)
    rng = random.Random(5)
    seed_attempts(app, learner.id, quiz, rng, 2, some_questions(quiz, rng, 12), finished_at=T0 + timedelta(minutes=5))
    clock["at"] = T0 + timedelta(minutes=10)
    page = text(trainer.client.get(url))
    assert (
        "Berekend op 1 dec 2026 11:00 over 12 afgeronde pogingen. <strong>2 nieuwere pogingen zijn nog niet meegeteld."
        in page
    )
    assert "Nu opnieuw berekenen" in page

    button = "/trainer/toetsen/eindtoets/analyse/opnieuw"
    response = post(trainer.client, button, {"groep": group_id}, follow_redirects=True)
    page = text(response)
    assert response.request.path == PAGE and response.request.args["groep"] == str(group_id)
    assert "De itemanalyse is opnieuw berekend." in page
    assert "Berekend op 1 dec 2026 11:10 over 14 afgeronde pogingen." in page
    assert "nog niet meegeteld" not in page

    # A second press within the minute: a Dutch message, the stored result untouched.
    before = stored_rows(app)
    clock["at"] = T0 + timedelta(minutes=10, seconds=59)
    page = text(post(trainer.client, button, {"groep": group_id}, follow_redirects=True))
    assert "De itemanalyse is minder dan een minuut geleden berekend. Probeer het over een minuut opnieuw." in page
    assert stored_rows(app) == before
    clock["at"] = T0 + timedelta(minutes=11)
    page = text(post(trainer.client, button, {"groep": group_id}, follow_redirects=True))
    assert "Berekend op 1 dec 2026 11:11 over 14 afgeronde pogingen." in page


def test_all_groups_and_each_group_are_stored_apart(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    first, _ = group_with_attempts(app, person, trainer, 3, seed=6)
    second, _ = group_with_attempts(app, person, trainer, 5, seed=7)
    assert "over 8 afgeronde pogingen." in text(trainer.client.get(PAGE))
    assert "over 3 afgeronde pogingen." in text(trainer.client.get(f"{PAGE}?groep={first}"))
    assert "over 5 afgeronde pogingen." in text(trainer.client.get(f"{PAGE}?groep={second}"))
    assert [(scope, group, n) for _, _, scope, group, n, _ in stored_rows(app)] == [
        ("alle", None, 8),
        (str(first), first, 3),
        (str(second), second, 5),
    ]


def _stored_json(app) -> dict:
    with app.app_context():
        return json.loads(db.session.scalar(sa.select(ItemAnalysisResult.result)))


def _spoil(app, value: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(ItemAnalysisResult).values(result=value))
        db.session.commit()


SPOILED = {
    "not JSON": lambda data: "{niet af",
    "JSON, but a list": lambda data: "[]",
    "another format": lambda data: json.dumps(data | {"format": 0}),
    "another version of the quiz": lambda data: json.dumps(data | {"quiz": "0" * 64}),
    "a question missing": lambda data: json.dumps(data | {"questions": data["questions"][1:]}),
    "questions in another order": lambda data: json.dumps(data | {"questions": data["questions"][::-1]}),
    "a count that is text": lambda data: json.dumps(
        data | {"questions": [q | {"answered": "veel"} for q in data["questions"]]}
    ),
    "a count that is null": lambda data: json.dumps(
        data | {"questions": [q | {"answered": None} for q in data["questions"]]}
    ),
    "a count that is true": lambda data: json.dumps(
        data | {"questions": [q | {"answered": True} for q in data["questions"]]}
    ),
    "an option cut short": lambda data: json.dumps(
        data | {"questions": [q | {"options": [o[:2] for o in q["options"]]} for q in data["questions"]]}
    ),
    "no reliability for a graded test": lambda data: json.dumps(data | {"reliability": None}),
    "a field too many": lambda data: json.dumps(data | {"extra": 1}),
}


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED.keys())
def test_a_stored_result_that_cannot_be_shown_is_recomputed(app, person, clock, spoil):
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, _ = group_with_attempts(app, person, trainer, 12, seed=8)
    url = f"{PAGE}?groep={group_id}"
    first = text(trainer.client.get(url))
    good = _stored_json(app)
    _spoil(app, spoil(good))

    clock["at"] = T0 + timedelta(hours=1)
    response = trainer.client.get(url)
    assert response.status_code == 200
    assert "Berekend op 1 dec 2026 12:00 over 12 afgeronde pogingen." in text(response)
    assert tokenless(text(response)) == tokenless(first.replace("1 dec 2026 11:00", "1 dec 2026 12:00"))
    assert _stored_json(app) == good
    assert len(stored_rows(app)) == 1


def test_a_recomputation_updates_the_one_row_and_an_older_one_never_overwrites_a_newer(app, person):
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, _ = group_with_attempts(app, person, trainer, 4, seed=9)
    quiz = quiz_of(app)
    with app.app_context():
        for moment in (T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=1)):
            # The last one began earlier but finished later (a slow recomputation beside a quick one).
            stored_analysis.compute(db.session, quiz, trainer.id, group_id, [group_id], moment)
            db.session.commit()
    assert [(n, at) for *_, n, at in stored_rows(app)] == [(4, T0 + timedelta(minutes=2))]


def test_only_the_trainer_of_the_group_may_recompute(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    other = person(Role.TRAINER, "Olaf Anderetrainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id, _ = group_with_attempts(app, person, trainer, 3, seed=10)
    assert trainer.client.get(f"{PAGE}?groep={group_id}").status_code == 200
    before = stored_rows(app)
    clock["at"] = T0 + timedelta(hours=1)
    button = "/trainer/toetsen/eindtoets/analyse/opnieuw"

    assert post(other.client, button, {"groep": group_id}).status_code == 404
    assert post(learner.client, button, {"groep": group_id}).status_code == 403
    assert trainer.client.post(button, data={"groep": group_id}).status_code == 400  # no CSRF token
    assert post(trainer.client, "/trainer/toetsen/bestaat-niet/analyse/opnieuw", {"groep": group_id}).status_code == 404
    assert stored_rows(app) == before


def test_the_command_recomputes_only_the_stale_scopes(app, person, clock, runner):
    trainer = person(Role.TRAINER, "Tess Trainer")
    quiet, _ = group_with_attempts(app, person, trainer, 3, seed=11)
    busy, busy_learner = group_with_attempts(app, person, trainer, 4, seed=12)
    for group_id in (quiet, busy):
        assert trainer.client.get(f"{PAGE}?groep={group_id}").status_code == 200
    quiz = quiz_of(app)
    rng = random.Random(13)
    seed_attempts(
        app, busy_learner.id, quiz, rng, 1, some_questions(quiz, rng, 12), finished_at=T0 + timedelta(minutes=1)
    )

    result = runner.invoke(args=["course", "recompute-item-analyses"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Itemanalyses: 1 opnieuw berekend, 1 al bij."
    (_, _, _, _, quiet_n, quiet_at), (_, _, _, _, busy_n, busy_at) = stored_rows(app)
    assert (quiet_n, quiet_at) == (3, T0)
    assert busy_n == 5 and busy_at > T0
    # Run again: nothing new, nothing recomputed.
    assert runner.invoke(args=["course", "recompute-item-analyses"]).output.strip() == (
        "Itemanalyses: 0 opnieuw berekend, 2 al bij."
    )


def _stored_view(app, trainer, group_id: int) -> list[str]:
    url = f"{PAGE}?groep={group_id}"
    assert trainer.client.get(url).status_code == 200  # computes and stores

    def visit():
        assert trainer.client.get(url).status_code == 200

    return statements_during(app, visit)


def test_a_view_of_a_stored_result_sends_as_many_statements_for_sixty_attempts_as_for_three(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    few, _ = group_with_attempts(app, person, trainer, 3, seed=14)
    many, _ = group_with_attempts(app, person, trainer, 60, seed=15)
    few_statements = _stored_view(app, trainer, few)
    assert len(few_statements) == len(_stored_view(app, trainer, many))
    # Nothing of the answers is read: the stored row and one count of newer attempts.
    assert not any("attempt_items" in statement for statement in few_statements)


def test_a_learner_without_finished_attempts_joining_keeps_the_stored_result(app, person, clock):
    # Most joins are new learners: they change no analysis, so it is not thrown away (and recomputed).
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, _ = group_with_attempts(app, person, trainer, 3, seed=16)
    assert trainer.client.get(PAGE).status_code == 200
    assert trainer.client.get(f"{PAGE}?groep={group_id}").status_code == 200
    before = stored_rows(app)
    add_members(trainer, group_id, person(Role.LEARNER, "Nieuwe Cursist"))
    assert stored_rows(app) == before


def test_an_erased_learner_no_longer_counts(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    other = person(Role.TRAINER, "Olaf Anderetrainer")
    group_id, _ = group_with_attempts(app, person, trainer, 3, seed=17)
    leaving_group, leaving = group_with_attempts(app, person, trainer, 2, seed=18)
    group_with_attempts(app, person, other, 4, seed=21)
    assert "over 5 afgeronde pogingen." in text(trainer.client.get(PAGE))
    assert "over 3 afgeronde pogingen." in text(trainer.client.get(f"{PAGE}?groep={group_id}"))
    assert "over 2 afgeronde pogingen." in text(trainer.client.get(f"{PAGE}?groep={leaving_group}"))
    assert "over 4 afgeronde pogingen." in text(other.client.get(PAGE))
    erased = post(leaving.client, "/account/verwijderen", {"password": PASSWORD, "confirm": "y"})
    assert erased.status_code == 302
    # Their group's and their trainer's "all groups" go (recomputed without them on the next view); the
    # other group's and another trainer's, which never counted them, stay as they were.
    assert [(owner, scope, n) for owner, _, scope, _, n, _ in stored_rows(app)] == [
        (trainer.id, str(group_id), 3),
        (other.id, "alle", 4),
    ]
    assert "over 3 afgeronde pogingen." in text(trainer.client.get(PAGE))
    assert "over 0 afgeronde pogingen." in text(trainer.client.get(f"{PAGE}?groep={leaving_group}"))


def test_only_graded_attempts_at_this_quiz_finished_after_the_computation_count_as_newer(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, learner = group_with_attempts(app, person, trainer, 3, seed=19)
    quiz = quiz_of(app)
    rng = random.Random(20)
    questions = some_questions(quiz, rng, 12)
    # Finished at the very moment the computation starts: it is in the computation, so not newer.
    seed_attempts(app, learner.id, quiz, rng, 1, questions, finished_at=T0)
    url = f"{PAGE}?groep={group_id}"
    assert "over 4 afgeronde pogingen." in text(trainer.client.get(url))

    later = T0 + timedelta(minutes=5)
    seed_attempts(app, learner.id, quiz, rng, 1, questions, finished_at=later, mode=AttemptMode.PRACTICE)
    seed_attempts(app, learner.id, quiz, rng, 1, questions, finished_at=later, quiz_id="casustoets")
    clock["at"] = T0 + timedelta(minutes=10)
    page = text(trainer.client.get(url))
    assert "over 4 afgeronde pogingen." in page
    assert "nog niet meegeteld" not in page

    seed_attempts(app, learner.id, quiz, rng, 1, questions, finished_at=later)
    page = text(trainer.client.get(url))
    assert "over 4 afgeronde pogingen. <strong>1 nieuwere poging is nog niet meegeteld.</strong>" in page


def _newer_attempt(app, learner, seed: int) -> None:
    quiz = quiz_of(app)
    rng = random.Random(seed)
    seed_attempts(app, learner.id, quiz, rng, 1, some_questions(quiz, rng, 12), finished_at=T0 + timedelta(minutes=1))


def test_the_command_recomputes_a_stale_all_groups_scope_over_that_trainers_groups(app, person, clock, runner):
    trainer = person(Role.TRAINER, "Tess Trainer")
    other = person(Role.TRAINER, "Olaf Anderetrainer")
    _, learner = group_with_attempts(app, person, trainer, 3, seed=22)
    group_with_attempts(app, person, other, 4, seed=23)
    assert "over 3 afgeronde pogingen." in text(trainer.client.get(PAGE))
    _newer_attempt(app, learner, seed=24)

    result = runner.invoke(args=["course", "recompute-item-analyses"])
    assert result.output.strip() == "Itemanalyses: 1 opnieuw berekend, 0 al bij."
    [(owner, _, scope, group, n, at)] = stored_rows(app)
    assert (owner, scope, group, n) == (trainer.id, "alle", None, 4)  # not the other trainer's 4 attempts
    assert at > T0


def test_the_command_recomputes_what_cannot_be_shown_and_drops_analyses_of_quizzes_that_are_gone(
    app, person, clock, runner
):
    trainer = person(Role.TRAINER, "Tess Trainer")
    gone, _ = group_with_attempts(app, person, trainer, 2, seed=25)
    spoiled, _ = group_with_attempts(app, person, trainer, 3, seed=26)
    first, first_learner = group_with_attempts(app, person, trainer, 4, seed=27)
    second, second_learner = group_with_attempts(app, person, trainer, 5, seed=28)
    for group_id in (gone, spoiled, first, second):
        assert trainer.client.get(f"{PAGE}?groep={group_id}").status_code == 200
    with app.app_context():
        rows = {row.group_id: row for row in db.session.scalars(sa.select(ItemAnalysisResult))}
        rows[gone].quiz_id = "verwijderde-toets"  # a quiz taken out of the course since
        rows[spoiled].result = "{niet af"
        db.session.commit()
    _newer_attempt(app, first_learner, seed=29)
    _newer_attempt(app, second_learner, seed=30)

    result = runner.invoke(args=["course", "recompute-item-analyses"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Itemanalyses: 3 opnieuw berekend, 0 al bij."
    # The spoiled scope's row was replaced (a new row); the gone quiz's row was deleted.
    assert sorted((group, n) for _, _, _, group, n, _ in stored_rows(app)) == [
        (spoiled, 3),
        (first, 5),
        (second, 6),
    ]
    quiz = quiz_of(app)
    with app.app_context():
        row = stored_analysis.stored_row(db.session, quiz.id, trainer.id, spoiled)
        assert stored_analysis.read(quiz, row).attempts == 3  # readable again


def test_the_command_skips_a_scope_deleted_while_it_runs(app, person, clock, runner, monkeypatch):
    trainer = person(Role.TRAINER, "Tess Trainer")
    groups_and_learners = [group_with_attempts(app, person, trainer, 2, seed=seed) for seed in (31, 32, 33)]
    for group_id, learner in groups_and_learners:
        assert trainer.client.get(f"{PAGE}?groep={group_id}").status_code == 200
        _newer_attempt(app, learner, seed=group_id + 40)
    middle = groups_and_learners[1][0]
    compute = stored_analysis.compute

    def compute_while_a_reset_deletes_the_middle_scope(session, *args):
        # A trainer's reset (or an erasure) deletes a stored analysis between the command's list and its turn.
        session.execute(sa.delete(ItemAnalysisResult).where(ItemAnalysisResult.group_id == middle))
        return compute(session, *args)

    monkeypatch.setattr(stored_analysis, "compute", compute_while_a_reset_deletes_the_middle_scope)
    result = runner.invoke(args=["course", "recompute-item-analyses"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Itemanalyses: 2 opnieuw berekend, 0 al bij."
    assert [(scope, n) for _, _, scope, _, n, _ in stored_rows(app)] == [
        (str(groups_and_learners[0][0]), 3),
        (str(groups_and_learners[2][0]), 3),
    ]


def test_a_learner_joining_with_finished_attempts_drops_only_the_analyses_that_now_count_them(app, person, clock):
    other = person(Role.TRAINER, "Olaf Anderetrainer")
    elsewhere, _ = group_with_attempts(app, person, other, 4, seed=50)  # first: the lowest group id
    trainer = person(Role.TRAINER, "Tess Trainer")
    joined, _ = group_with_attempts(app, person, trainer, 3, seed=51)
    untouched, _ = group_with_attempts(app, person, trainer, 2, seed=52)
    case_page = "/trainer/toetsen/casustoets/analyse"
    for client, url in (
        (trainer.client, PAGE),
        (trainer.client, f"{PAGE}?groep={joined}"),
        (trainer.client, f"{PAGE}?groep={untouched}"),
        (trainer.client, f"{case_page}?groep={joined}"),  # another quiz, which the newcomer never finished
        (other.client, PAGE),
        (other.client, f"{PAGE}?groep={elsewhere}"),
    ):
        assert client.get(url).status_code == 200
    everything = stored_rows(app)
    assert len(everything) == 6

    quiz = quiz_of(app)
    rng = random.Random(53)
    questions = some_questions(quiz, rng, 12)
    practising = person(Role.LEARNER, "Pim Oefent")
    seed_attempts(app, practising.id, quiz, rng, 2, questions, mode=AttemptMode.PRACTICE, finished_at=T0)
    busy = person(Role.LEARNER, "Bea Bezig")
    seed_attempts(app, busy.id, quiz, rng, 1, questions, status=AttemptStatus.IN_PROGRESS)
    # Newcomers without a finished graded attempt change no analysis: every stored one stays.
    add_members(trainer, joined, practising, busy)
    assert stored_rows(app) == everything

    finished = person(Role.LEARNER, "Fenna Klaar")
    seed_attempts(app, finished.id, quiz, rng, 2, questions, finished_at=T0)
    add_members(trainer, joined, finished)
    # The group's final-test analysis and its trainer's "all groups" now miss her attempts: dropped.
    assert [(owner, quiz_id, scope) for owner, quiz_id, scope, *_ in stored_rows(app)] == [
        (trainer.id, "eindtoets", str(untouched)),
        (trainer.id, "casustoets", str(joined)),
        (other.id, "eindtoets", "alle"),
        (other.id, "eindtoets", str(elsewhere)),
    ]
    assert "over 5 afgeronde pogingen." in text(trainer.client.get(f"{PAGE}?groep={joined}"))
    assert "over 7 afgeronde pogingen." in text(trainer.client.get(PAGE))


def test_of_two_computations_at_the_same_moment_the_later_one_is_kept(app, person):
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, learner = group_with_attempts(app, person, trainer, 4, seed=54)
    quiz = quiz_of(app)
    with app.app_context():
        stored_analysis.compute(db.session, quiz, trainer.id, group_id, [group_id], T0)
        db.session.commit()
    _newer_attempt(app, learner, seed=55)
    with app.app_context():
        stored_analysis.compute(db.session, quiz, trainer.id, group_id, [group_id], T0)
        db.session.commit()
    assert [(n, at) for *_, n, at in stored_rows(app)] == [(5, T0)]


def test_a_stored_analysis_of_a_question_changed_since_is_not_shown(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    group_id, _ = group_with_attempts(app, person, trainer, 3, seed=56)
    assert trainer.client.get(f"{PAGE}?groep={group_id}").status_code == 200
    quiz = quiz_of(app)
    first = quiz.all_questions[0]
    # A content update rewords one question: the stored statistics were about the old wording.
    reworded = (dataclasses.replace(first, prompt=first.prompt + " (herzien)"), *quiz.questions[1:])
    changed = dataclasses.replace(quiz, questions=reworded, _by_id={})  # its own index, not the catalog's
    with app.app_context():
        row = stored_analysis.stored_row(db.session, quiz.id, trainer.id, group_id)
        assert stored_analysis.read(quiz, row).attempts == 3
        with pytest.raises(stored_analysis.Invalid):
            stored_analysis.read(changed, row)


def test_a_knowledge_check_without_reliability_is_stored_and_shown_again(app, person, clock):
    trainer = person(Role.TRAINER, "Tess Trainer")
    learner = person(Role.LEARNER, "Anna Cursist")
    group_id = new_group(trainer, "Kennischeck")
    add_members(trainer, group_id, learner)
    with app.app_context():
        check = get_catalog().quiz("kennischeck-inleiding")
    assert not check.is_graded
    rng = random.Random(57)
    seed_attempts(app, learner.id, check, rng, 3, list(check.all_questions), finished_at=T0 - timedelta(days=1))
    url = f"/trainer/toetsen/{check.id}/analyse?groep={group_id}"
    first = trainer.client.get(url)
    assert first.status_code == 200
    with app.app_context():
        row = stored_analysis.stored_row(db.session, check.id, trainer.id, group_id)
        assert stored_analysis.read(check, row).reliability is None
    assert tokenless(text(trainer.client.get(url))) == tokenless(text(first))

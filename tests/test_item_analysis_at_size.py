"""Item analysis at size: the statistics come from totals the database adds up (GROUP BY per question,
per pair of questions, per chosen option, per attempt), never from every answer loaded into Python.
They equal what the row-by-row computation of before gave (tests/item_analysis_reference.py) on
seeded random data, on SQLite and PostgreSQL; the page sends as many statements for 60 attempts as
for 3, and memory does not grow with the number of answers."""

from __future__ import annotations

import random
import tracemalloc

import pytest
import sqlalchemy as sa

from course.catalog.access import get_catalog
from course.extensions import db
from course.models import Attempt, AttemptItem, AttemptMode, AttemptStatus, Role
from course.quizzes.definitions import Question
from course.trainer import item_analysis
from course.trainer.item_analysis import ItemRow, Reliability
from tests import item_analysis_reference as reference
from tests.helpers import add_members, new_group, seed_attempts, some_questions, statements_during, text

APPROX = {"rel": 1e-9, "abs": 1e-9}


def same(found: float | None, expected: float | None) -> bool:
    """Equal up to rounding in the last digits (sums in another order); None only where it was None."""
    return found is None if expected is None else found == pytest.approx(expected, **APPROX)


def quiz_of(app):
    with app.app_context():
        return get_catalog().quiz("eindtoets")


def rows_of(app, attempts: sa.Select) -> list[ItemRow]:
    """Every answer row in scope, in attempt id order (how the reference ranks equal percents)."""
    scope = attempts.subquery()
    with app.app_context():
        return [
            ItemRow(*row)
            for row in db.session.execute(
                sa.select(scope.c.id, scope.c.percent, AttemptItem.question_id, AttemptItem.score, AttemptItem.response)
                .join(AttemptItem, AttemptItem.attempt_id == scope.c.id)
                .order_by(scope.c.id, AttemptItem.position)
            )
        ]


def totals_in_sql(app, attempts: sa.Select):
    with app.app_context():
        return item_analysis.collect(db.session, attempts)


def assert_same_stats(found, expected) -> None:
    assert len(found) == len(expected)
    for mine, theirs in zip(found, expected, strict=True):
        assert mine.question.id == theirs.question.id
        assert mine.answered == theirs.answered, mine.question.id
        assert same(mine.facility, theirs.facility), mine.question.id
        assert same(mine.discrimination, theirs.discrimination), mine.question.id
        assert [(o.label, o.count, o.correct) for o in mine.options] == [
            (o.label, o.count, o.correct) for o in theirs.options
        ], mine.question.id
        assert [o.share for o in mine.options] == pytest.approx([o.share for o in theirs.options], **APPROX)
        assert mine.flags == theirs.flags, mine.question.id


def assert_same_reliability(found: Reliability, expected: Reliability) -> None:
    assert (found.attempts, found.method, found.minimum) == (expected.attempts, expected.method, expected.minimum)
    assert same(found.items_per_attempt, expected.items_per_attempt)
    assert same(found.coefficient, expected.coefficient)
    assert same(found.sem, expected.sem)


@pytest.mark.parametrize("seed", range(12))
def test_the_totals_from_sql_give_what_the_row_by_row_computation_gave(app, person, seed):
    rng = random.Random(seed)
    quiz = quiz_of(app)
    trainer = person(Role.TRAINER, "Tess Trainer")
    learner, outsider = person(Role.LEARNER, "Anna Cursist"), person(Role.LEARNER, "Olaf Buiten")
    group_id = new_group(trainer)
    add_members(trainer, group_id, learner)
    questions = some_questions(quiz, rng, rng.choice([6, 10, 16]))
    graded = rng.choice([5, 12, 31, 45, 80])
    seed_attempts(app, learner.id, quiz, rng, graded, questions)
    # What the analysis leaves out: practice and unfinished attempts, and learners outside the groups.
    seed_attempts(app, learner.id, quiz, rng, 5, questions, mode=AttemptMode.PRACTICE)
    seed_attempts(app, learner.id, quiz, rng, 3, questions, mode=AttemptMode.VOIDED)
    seed_attempts(app, outsider.id, quiz, rng, 7, questions)
    seed_attempts(app, learner.id, quiz, rng, 4, questions, quiz_id="casustoets")  # another test
    attempts = item_analysis.attempts_of_groups(quiz.id, [group_id])
    rows, totals = rows_of(app, attempts), totals_in_sql(app, attempts)

    assert totals.attempts == len({r.attempt_id for r in rows}) == graded
    assert_same_stats(item_analysis.item_stats(quiz, totals), reference.analyse(quiz, rows))
    for minimum in (3, item_analysis.MIN_RELIABILITY_ATTEMPTS):
        assert_same_reliability(
            item_analysis.reliability_of(quiz, totals, minimum), reference.reliability(quiz, rows, minimum)
        )
    # The Python totals (used by the pure tests) agree with the database's as well.
    assert_same_stats(item_analysis.analyse(quiz, rows), reference.analyse(quiz, rows))
    assert_same_reliability(item_analysis.reliability(quiz, rows, 3), reference.reliability(quiz, rows, 3))


def test_a_question_everyone_scores_the_same_has_no_spread_and_no_reliability(app, person):
    # Rounding in sums must not invent a variance: every answer right gives exactly none, as before.
    quiz = quiz_of(app)
    learner = person(Role.LEARNER, "Anna Cursist")
    questions = [q for q in quiz.all_questions if q.type == "single_choice"][:3]
    with app.app_context():
        rows = [
            {"user_id": learner.id, "quiz_id": quiz.id, "mode": AttemptMode.GRADED, "number": n, "percent": 100.0}
            | {"status": AttemptStatus.FINISHED, "content_version": "test"}
            for n in range(1, 41)
        ]
        ids = db.session.scalars(sa.insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), rows).all()
        right = {q.id: next(o.id for o in q.options if o.correct) for q in questions}
        db.session.execute(
            sa.insert(AttemptItem),
            [
                {"attempt_id": i, "position": p, "question_id": q.id, "option_order": [], "response": right[q.id]}
                | {"score": 1.0}
                for i in ids
                for p, q in enumerate(questions)
            ],
        )
        db.session.commit()
    attempts = sa.select(Attempt.id, Attempt.percent)
    totals, rows = totals_in_sql(app, attempts), rows_of(app, attempts)
    found = item_analysis.reliability_of(quiz, totals)
    assert found.attempts == 40 and found.coefficient is None and found.sem is None
    assert_same_reliability(found, reference.reliability(quiz, rows))
    [first] = [s for s in item_analysis.item_stats(quiz, totals) if s.question.id == questions[0].id]
    assert (first.answered, first.facility, first.discrimination) == (40, 1.0, 0.0)


def finished_attempts(app, user_id: int, quiz_id: str, percents: list[float]) -> list[int]:
    """Finished graded attempts with these percents, without items; their ids in order."""
    with app.app_context():
        first = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Attempt.number), 0))) + 1
        rows = [
            {"user_id": user_id, "quiz_id": quiz_id, "mode": AttemptMode.GRADED, "number": first + n}
            | {"status": AttemptStatus.FINISHED, "content_version": "test", "percent": percent}
            for n, percent in enumerate(percents)
        ]
        ids = db.session.scalars(sa.insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), rows).all()
        db.session.commit()
        return list(ids)


def test_partial_credit_without_spread_gives_no_coefficient_from_the_database_either(app, person):
    # Everyone earns a third of the credit on both questions: no spread at all. Summed by the database,
    # 30 times (1/3)^2 minus the squared mean is not exactly 0 (about 4e-17); that rounding must not turn
    # into a coefficient of 0.00 where there is nothing to estimate.
    quiz = quiz_of(app)
    learner = person(Role.LEARNER, "Anna Cursist")
    questions = [q for q in quiz.all_questions if q.type == "multiple_response"][:2]
    ids = finished_attempts(app, learner.id, quiz.id, [100 / 3] * 30)
    with app.app_context():
        db.session.execute(
            sa.insert(AttemptItem),
            [
                {"attempt_id": i, "position": p, "question_id": q.id, "option_order": [], "response": []}
                | {"score": 1 / 3}
                for i in ids
                for p, q in enumerate(questions)
            ],
        )
        db.session.commit()
    found = item_analysis.reliability_of(quiz, totals_in_sql(app, sa.select(Attempt.id, Attempt.percent)))
    assert (found.attempts, found.method, found.coefficient, found.sem) == (30, "Cronbachs alfa", None, None)


def test_an_attempt_without_a_scored_question_counts_as_finished_but_not_for_the_reliability(app, person):
    # Every question of this attempt was removed by a newer content version before it was finished, so
    # nothing in it was scored and its 0% says nothing. The page counts it among the finished attempts;
    # the reliability leaves it out: not in its number of attempts, not in the spread of the scores.
    quiz = quiz_of(app)
    learner = person(Role.LEARNER, "Anna Cursist")
    rng = random.Random(7)
    seed_attempts(app, learner.id, quiz, rng, 40, some_questions(quiz, rng, 10))
    everything = sa.select(Attempt.id, Attempt.percent)
    before = totals_in_sql(app, everything)
    [unscored] = finished_attempts(app, learner.id, quiz.id, [0.0])
    with app.app_context():
        db.session.execute(
            sa.insert(AttemptItem),
            [
                {"attempt_id": unscored, "position": p, "question_id": q.id, "option_order": [], "response": None}
                | {"score": None}
                for p, q in enumerate(quiz.all_questions[:3])
            ],
        )
        db.session.commit()
    after = totals_in_sql(app, everything)

    assert after.attempts == before.attempts + 1
    assert after.scored_attempts == before.scored_attempts
    assert_same_reliability(item_analysis.reliability_of(quiz, after), item_analysis.reliability_of(quiz, before))
    assert item_analysis.reliability_of(quiz, after).sem is not None
    assert_same_stats(item_analysis.item_stats(quiz, after), item_analysis.item_stats(quiz, before))


def test_equal_attempt_percents_rank_the_earlier_attempt_lower(app, person):
    # Ten attempts with the same percent: the lower group is the first three by attempt id, the upper the last three.
    quiz = quiz_of(app)
    learner = person(Role.LEARNER, "Anna Cursist")
    question = next(q for q in quiz.all_questions if q.type == "single_choice")
    right = next(o.id for o in question.options if o.correct)
    wrong = next(o.id for o in question.options if not o.correct)
    answers = [wrong, wrong, right, right, right, wrong, right, right, right, right]
    with app.app_context():
        ids = db.session.scalars(
            sa.insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True),
            [
                {"user_id": learner.id, "quiz_id": quiz.id, "mode": AttemptMode.GRADED, "number": n, "percent": 50.0}
                | {"status": AttemptStatus.FINISHED, "content_version": "test"}
                for n in range(1, 11)
            ],
        ).all()
        db.session.execute(
            sa.insert(AttemptItem),
            [
                {"attempt_id": i, "position": 0, "question_id": question.id, "option_order": [], "response": a}
                | {"score": 1.0 if a == right else 0.0}
                for i, a in zip(ids, answers, strict=True)
            ],
        )
        db.session.commit()
    totals = totals_in_sql(app, sa.select(Attempt.id, Attempt.percent))
    [stats] = [s for s in item_analysis.item_stats(quiz, totals) if s.question.id == question.id]
    assert stats.discrimination == pytest.approx(1.0 - 1 / 3)


def page_with(app, trainer, learner, group_id: int, attempts: int, seed: int) -> list[str]:
    quiz = quiz_of(app)
    rng = random.Random(seed)
    seed_attempts(app, learner.id, quiz, rng, attempts, some_questions(quiz, rng, 12))
    found: dict[str, object] = {}

    def visit():
        found["response"] = trainer.client.get(f"/trainer/toetsen/eindtoets/analyse?groep={group_id}")

    statements = statements_during(app, visit)
    assert found["response"].status_code == 200
    assert f"over {attempts} afgeronde pogingen." in text(found["response"])
    return statements


def test_the_page_sends_as_many_statements_for_sixty_attempts_as_for_three(app, person):
    trainer = person(Role.TRAINER, "Tess Trainer")
    few, many = person(Role.LEARNER, "Anna Weinig"), person(Role.LEARNER, "Bram Veel")
    few_group, many_group = new_group(trainer, "Weinig"), new_group(trainer, "Veel")
    add_members(trainer, few_group, few)
    add_members(trainer, many_group, many)
    assert len(page_with(app, trainer, few, few_group, 3, seed=1)) == len(
        page_with(app, trainer, many, many_group, 60, seed=2)
    )


def peak_memory(app, trainer, group_id: int) -> int:
    url = f"/trainer/toetsen/eindtoets/analyse?groep={group_id}"
    tracemalloc.start()
    try:
        assert trainer.client.get(url).status_code == 200
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.memory
def test_memory_does_not_grow_with_the_number_of_answers(app, person):
    quiz = quiz_of(app)
    rng = random.Random(15)
    questions = some_questions(quiz, rng, 16)
    trainer = person(Role.TRAINER, "Tess Trainer")
    small, large = person(Role.LEARNER, "Anna Klein"), person(Role.LEARNER, "Bram Groot")
    small_group, large_group = new_group(trainer, "Klein"), new_group(trainer, "Groot")
    add_members(trainer, small_group, small)
    add_members(trainer, large_group, large)
    seed_attempts(app, small.id, quiz, rng, 450, questions)  # about 2,000 answers (4.5 per attempt)
    seed_attempts(app, large.id, quiz, rng, 4500, questions)  # about 20,000
    with app.app_context():
        answers = dict(
            db.session.execute(
                sa.select(Attempt.user_id, sa.func.count()).join(AttemptItem).group_by(Attempt.user_id)
            ).all()
        )
    assert answers[small.id] > 1800 and answers[large.id] > 18000
    peak_memory(app, trainer, small_group)  # warm up: templates and compiled statements are cached after a run
    assert peak_memory(app, trainer, large_group) <= 2 * peak_memory(app, trainer, small_group)


def test_the_error_of_measurement_of_two_score_levels_as_computed_by_hand():
    # Two attempts at 66.7% and two at 0%: a and b agree, c nobody gets. Item variances .25, .25, 0
    # (v = 1/6), covariances .25, 0, 0 (c = 1/12): alpha = 3 * (1/12) / (1/6 + 2/12) = 0.75. The percents
    # have a standard deviation (n - 1) of 38.5; SEM = 38.5 * sqrt(1 - 0.75) = 19.2 percentage points.
    quiz = reference_quiz()
    rows = [
        ItemRow(attempt, 200 / 3 if attempt < 2 else 0.0, qid, score, "a")
        for attempt, scores in enumerate([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        for qid, score in zip(("a", "b", "c"), scores, strict=True)
    ]
    result = item_analysis.reliability(quiz, rows, minimum=4)
    assert result.coefficient == pytest.approx(0.75)
    assert result.sem == pytest.approx(100 / 3 * (4 / 3) ** 0.5 * 0.5)
    assert round(result.sem, 1) == 19.2


def test_partial_credit_without_spread_gives_no_coefficient():
    # Everyone earns a third on both questions: no spread at all, so no alpha (not a number made of rounding).
    quiz = reference_quiz()
    rows = [ItemRow(attempt, 100 / 3, qid, 1 / 3, "a") for attempt in range(30) for qid in ("a", "b")]
    result = item_analysis.reliability(quiz, rows)
    assert result.attempts == 30 and result.coefficient is None and result.sem is None


def reference_quiz():
    from course.quizzes.definitions import Counting, Option, Policy, Quiz, QuizKind, ReviewPolicy

    options = (Option("a", "Ja", True, ""), Option("b", "Nee", False, ""))
    questions = tuple(Question(id=q, type="single_choice", section="1", prompt="?", options=options) for q in "abc")
    policy = Policy(3, 0, Counting.BEST, ReviewPolicy.NEVER, 70)
    return Quiz(id="t", title="T", kind=QuizKind.SUMMATIVE, description="", policy=policy, questions=questions)


def test_without_questions_asked_together_the_reliability_cannot_be_estimated():
    # 30 attempts of one question each: variances, but no pair of questions ever met. The page then says
    # it cannot be estimated (it counts the attempts, not "too few"), and does not fail.
    quiz = reference_quiz()
    rows = [ItemRow(attempt, 100.0 * (attempt % 2), "abc"[attempt % 3], attempt % 2, "a") for attempt in range(30)]
    result = item_analysis.reliability(quiz, rows)
    assert (result.attempts, result.method, result.items_per_attempt) == (30, "KR-20", 1.0)
    assert (result.coefficient, result.sem, result.minimum, result.too_few_attempts) == (None, None, 30, False)

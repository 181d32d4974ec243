"""The database itself allows one open graded attempt per learner and quiz (issue 10, finding 4)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from course.models import Attempt, AttemptMode, AttemptStatus

QUIZ = "eindtoets"


@pytest.fixture
def learner_id(create_user) -> int:
    return create_user().id


def add(db, user_id: int, number: int, mode=AttemptMode.GRADED, status=AttemptStatus.IN_PROGRESS, quiz=QUIZ):
    db.session.add(Attempt(user_id=user_id, quiz_id=quiz, mode=mode, number=number, status=status, content_version="t"))
    db.session.flush()


def test_a_second_open_graded_attempt_is_refused_by_the_database(db, learner_id):
    add(db, learner_id, 1)
    db.session.commit()
    with pytest.raises(IntegrityError):
        add(db, learner_id, 2)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1


def test_finished_practice_and_voided_attempts_do_not_count_as_open_graded(db, learner_id, create_user):
    other_learner_id = create_user().id
    add(db, learner_id, 1, status=AttemptStatus.FINISHED)
    add(db, learner_id, 2, mode=AttemptMode.VOIDED)
    add(db, learner_id, 1, mode=AttemptMode.PRACTICE)
    add(db, learner_id, 3)  # the one open graded attempt on this quiz
    add(db, learner_id, 1, quiz="casustoets")  # another quiz
    add(db, other_learner_id, 1)  # another learner
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 6


def test_the_migration_closes_the_extra_open_attempts_the_old_race_left(app, db, learner_id):
    downgrade(revision="5b0e6c1f2a9d")
    try:
        db.session.execute(
            sa.text(
                "INSERT INTO attempts (user_id, quiz_id, mode, number, status, page, revision, content_version, "
                "started_at) VALUES (:user, :quiz, 'graded', :number, 'in_progress', 0, 0, 't', CURRENT_TIMESTAMP)"
            ),
            [{"user": learner_id, "quiz": QUIZ, "number": n} for n in (1, 2, 3)]
            + [{"user": learner_id, "quiz": "casustoets", "number": 1}],
        )
        db.session.commit()
    finally:
        db.session.remove()
        upgrade()
    rows = db.session.execute(
        sa.select(Attempt.quiz_id, Attempt.number, Attempt.mode, Attempt.status).order_by(
            Attempt.quiz_id, Attempt.number
        )
    ).all()
    assert rows == [
        ("casustoets", 1, AttemptMode.GRADED, AttemptStatus.IN_PROGRESS),
        (QUIZ, 1, AttemptMode.GRADED, AttemptStatus.IN_PROGRESS),
        (QUIZ, 2, AttemptMode.VOIDED, AttemptStatus.FINISHED),
        (QUIZ, 3, AttemptMode.VOIDED, AttemptStatus.FINISHED),
    ]

"""The bench's institute at size (bench/seed_at_size.py) holds what the app itself would have written:
the pages that read it render, the answers are graded as the app grades them, and certificates go
only to learners who completed the module."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bench.seed_at_size import PASSWORD, SeededInstitute, seed_at_size
from course import audit
from course.auth import two_factor
from course.extensions import db as _db
from course.models import Attempt, AttemptItem, AuditEvent, AuditEventPerson, Certificate, LessonRead, User
from course.quizzes.grading import grade
from tests.conftest import TOTP_SECRET, AuthActions
from tests.helpers import fetch

pytestmark = pytest.mark.at_size

LEARNERS = 1_000


@pytest.fixture
def institute(app) -> SeededInstitute:
    with app.app_context():
        seeded = seed_at_size(_db.engine, app.extensions["catalog"], LEARNERS)
        admin = _db.session.get(User, seeded.admin_id)
        two_factor.store_secret(admin, TOTP_SECRET, datetime.now(UTC))  # admins sign in with two steps
        _db.session.commit()
    return seeded


def rows(app, statement) -> list:
    with app.app_context():
        return [tuple(row) for row in _db.session.execute(statement)]


def signed_in(app, email: str):
    client = app.test_client()
    assert AuthActions(client).login(email, PASSWORD).status_code == 302
    return client


def test_the_institute_has_the_agreed_shape(app, institute):
    written = institute.rows
    assert written["users"] == LEARNERS + 2
    assert written["group_members"] == LEARNERS
    assert 9 * LEARNERS <= written["attempt_items"] <= 12 * LEARNERS  # about 10 answers per learner
    certified = fetch(app, sa.select(sa.func.count(sa.distinct(Certificate.user_id))))[0]
    assert 0.25 * LEARNERS <= certified <= 0.35 * LEARNERS
    statuses = dict(rows(app, sa.select(Certificate.status, sa.func.count()).group_by(Certificate.status)))
    assert set(statuses) == {"valid", "revoked", "superseded"}
    today = datetime.now(UTC).date()
    expired = fetch(app, sa.select(sa.func.count()).where(Certificate.valid_until < today))[0]
    assert expired > 0
    # every finish and every certificate has its audit event
    assert written["audit_events"] >= fetch(app, sa.select(sa.func.count()).where(Attempt.finished_at.is_not(None)))[0]


def test_the_audit_events_are_linked_to_their_people_as_record_links_them(app, institute):
    events = rows(app, sa.select(AuditEvent.id, AuditEvent.subject_type, AuditEvent.subject_id, AuditEvent.details))
    expected = {(event_id, uid) for event_id, *event in events for uid in audit.people_of(*event)}
    links = rows(app, sa.select(AuditEventPerson.event_id, AuditEventPerson.user_id))
    assert set(links) == expected and len(links) == len(expected) == institute.rows["audit_event_people"]
    # Every learner who finished an attempt has events about them.
    finishers = {uid for (uid,) in rows(app, sa.select(Attempt.user_id).where(Attempt.finished_at.is_not(None)))}
    assert finishers and finishers <= {uid for _, uid in links}


def test_answers_are_graded_as_the_app_grades_them(app, institute):
    catalog = app.extensions["catalog"]
    items = rows(
        app,
        sa.select(Attempt.quiz_id, AttemptItem.question_id, AttemptItem.response, AttemptItem.score)
        .join(Attempt)
        .where(Attempt.status == "finished")
        .order_by(AttemptItem.id)
        .limit(2_000),
    )
    for quiz_id, question_id, response, score in items:
        assert grade(catalog.quiz(quiz_id).question(question_id), response).score == score
    totals = rows(
        app,
        sa.select(Attempt.points, sa.func.sum(AttemptItem.score))
        .join(AttemptItem)
        .where(Attempt.status == "finished")
        .group_by(Attempt.id),
    )
    assert all(points == pytest.approx(total) for points, total in totals)


def test_certificates_go_only_to_learners_who_completed(app, institute):
    catalog = app.extensions["catalog"]
    certified = sa.select(Certificate.user_id)
    unread = fetch(
        app,
        sa.select(sa.func.count())
        .select_from(User)
        .where(
            User.id.in_(certified),
            sa.select(sa.func.count()).where(LessonRead.user_id == User.id).scalar_subquery() < len(catalog.lessons),
        ),
    )[0]
    assert unread == 0
    for quiz_id in catalog.module.completion.quizzes_passed:
        passed = sa.select(Attempt.user_id).where(Attempt.quiz_id == quiz_id, Attempt.passed.is_(True))
        missing = fetch(
            app, sa.select(sa.func.count(sa.distinct(Certificate.user_id))).where(Certificate.user_id.not_in(passed))
        )[0]
        assert missing == 0


def test_the_pages_that_read_it_render(app, institute):
    group = f"/trainer/groepen/{institute.group_id}"
    trainer = signed_in(app, institute.trainer_email)
    for url in (
        group,
        f"{group}?sorteer=status",
        f"{group}/cursisten/{institute.sample_learner_id}",
        "/trainer/toetsen/eindtoets/analyse",
        "/trainer/toetsen/casustoets/analyse",
        f"{group}/accreditatie.csv",
        f"{group}/accreditatie.xlsx",
    ):
        assert trainer.get(url).status_code == 200, url
    admin = signed_in(app, institute.admin_email)
    for url in ("/beheer/gebruikers", "/beheer/certificaten", "/beheer/logboek"):
        assert admin.get(url).status_code == 200, url
    learner = signed_in(app, institute.sample_learner_email)
    export = learner.get("/account/gegevens.json")
    assert export.status_code == 200
    assert len(export.get_json()["attempts"]) > 20


def test_the_same_seed_gives_the_same_rows(app):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    dumps = []
    for _ in range(2):
        engine = sa.create_engine("sqlite://")
        _db.metadata.create_all(engine)
        with app.app_context():
            seed_at_size(engine, app.extensions["catalog"], 40, seed=3, now=now)
        with engine.connect() as conn:
            tables = [Attempt.__table__, AttemptItem.__table__, Certificate.__table__, User.__table__]
            dumps.append([conn.execute(sa.select(t).order_by(t.c.id)).all() for t in tables])
        engine.dispose()
    users = -1
    # Password hashes carry a random salt; everything else is the same.
    assert dumps[0][:users] == dumps[1][:users]
    strip = [[c for c in row if not str(c).startswith(("scrypt:", "seeded:"))] for row in dumps[0][users]]
    assert strip == [[c for c in row if not str(c).startswith(("scrypt:", "seeded:"))] for row in dumps[1][users]]

"""Helpers shared by several test files: forms over HTTP, reading the database, signed-in state,
counting SQL statements, and the trainer's group actions. (Quiz attempts: tests/quiz_helpers.py.)"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask.testing import FlaskClient
from jinja2 import meta
from sqlalchemy import event

from course.extensions import db
from course.models import Attempt, AttemptItem, AttemptMode, AttemptStatus, Invitation
from course.quizzes.definitions import Question
from course.quizzes.grading import grade
from course.timeutil import local_date, utcnow
from course.trainer import progress
from tests.conftest import Person, csrf_token
from tests.quiz_helpers import attempt_id_from, complete, start

# --- HTTP and the database -----------------------------------------------------------------


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token (every page carries it in the logout form)."""
    token = csrf_token(client, "/")
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def fetch(app, statement) -> list:
    with app.app_context():
        found = list(db.session.scalars(statement).all())
        db.session.expunge_all()
        return found


def count(app, model, *criteria) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*criteria))


def get(app, model, pk):
    with app.app_context():
        found = db.session.get(model, pk)
        db.session.expunge_all()
        return found


def run_sql(app, statement) -> None:
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def rebuild_progress(app) -> None:
    """After data changed behind the app's back (a test moving dates in the database), recompute the
    trainer dashboard's stored progress, as `flask course rebuild-progress` does after a hand edit."""
    with app.app_context():
        progress.rebuild_all(db.session.connection(), app.extensions["catalog"])
        db.session.commit()


def statements_during(app, action) -> list[str]:
    """The SQL statements the app sends while `action()` runs."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


# --- signed in or not ----------------------------------------------------------------------


def signed_in(client: FlaskClient) -> bool:
    """The browser's session is open: its data export answers with the JSON."""
    response = client.get("/account/gegevens.json")
    return response.status_code == 200 and response.mimetype == "application/json"


def signed_out(client: FlaskClient) -> bool:
    """The browser's session has ended: a page that needs an account sends it to the login page.
    (Not the same as `not signed_in`: an error page is neither.)"""
    response = client.get("/account/gegevens.json")
    return response.status_code == 302 and response.headers["Location"].startswith("/inloggen")


# --- a trainer's groups --------------------------------------------------------------------


def new_group(trainer: Person, name: str = "Groep Noord") -> int:
    response = post(trainer.client, "/trainer/groepen", {"name": name})
    assert response.status_code == 302
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def invite(trainer: Person, group_id: int, email: str):
    return post(trainer.client, f"/trainer/groepen/{group_id}/uitnodigen", {"email": email}, follow_redirects=True)


def invitation_id(app, group_id: int, email: str) -> int:
    [found] = fetch(app, sa.select(Invitation.id).where(Invitation.group_id == group_id, Invitation.email == email))
    return found


def answer(learner: Person, invitation: int, choice: str = "accepteren"):
    return post(learner.client, f"/uitnodigingen/{invitation}", {"answer": choice}, follow_redirects=True)


def add_members(trainer: Person, group_id: int, *learners: Person) -> None:
    """Invite each learner, and each accepts (the only way an invited learner joins)."""
    for learner in learners:
        assert "De uitnodiging is verstuurd." in text(invite(trainer, group_id, learner.email))
        assert "Je bent lid van de groep" in text(
            answer(learner, invitation_id(trainer.client.application, group_id, learner.email))
        )


def due(days: int) -> str:
    return (local_date(utcnow()) + timedelta(days=days)).isoformat()


def assign(trainer: Person, group_id: int, due_on: str, learner: Person | None = None):
    data = {"due_on": due_on}
    if learner is not None:
        data["learner_id"] = str(learner.id)
    return post(trainer.client, f"/trainer/groepen/{group_id}/opdracht", data, follow_redirects=True)


def reset(trainer: Person, group_id: int, attempt_id: int, reason: str):
    return post(
        trainer.client,
        f"/trainer/groepen/{group_id}/pogingen/{attempt_id}/ongedaan-maken",
        {"reason": reason},
        follow_redirects=True,
    )


def finish_quiz(app, learner: Person, quiz_id: str, right: bool = True) -> int:
    response = start(learner.client, quiz_id)
    assert response.status_code == 302 and "/pogingen/" in response.headers["Location"]
    attempt_id = attempt_id_from(response)
    assert complete(app, learner.client, attempt_id, right=right).status_code == 302
    return attempt_id


MAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
# Variables that are not a plain word or link (the trainer's weekly overview lists groups).
MAIL_SAMPLES: dict[str, object] = {
    "groups": [
        {
            "name": "Groep Noord",
            "link": "https://hechtwijzer.test/trainer/groepen/1",
            "late": [("Anna de Vries", date(2026, 12, 1)), ("Bram", date(2026, 12, 2))],
        }
    ],
    "late_count": 2,
    # Dates and moments are formatted by the templates themselves (Dutch, local time).
    "due_on": date(2026, 12, 1),
    "valid_until": date(2027, 1, 30),
    "expires_at": datetime(2026, 12, 15, 23, 30, tzinfo=UTC),
}


def mail_sample_context(app, name: str) -> dict[str, object]:
    """A value for every variable the two templates use: links are URLs, the rest plain words."""
    env = app.jinja_env
    names: set[str] = set()
    for suffix in ("txt", "html"):
        source = (MAIL_TEMPLATES / f"{name}.{suffix}").read_text(encoding="utf-8")
        names |= meta.find_undeclared_variables(env.parse(source))
    context: dict[str, object] = {}
    for variable in sorted(names - {"subject"}):
        if variable in MAIL_SAMPLES:
            context[variable] = MAIL_SAMPLES[variable]
        elif "link" in variable or "url" in variable:
            context[variable] = f"https://hechtwijzer.test/voorbeeld/{variable}?token=abc&x=1"
        elif variable in {"days", "hours", "minutes", "count"}:
            context[variable] = 3
        else:
            context[variable] = f"Voorbeeld {variable}"
    return context


# --- item analysis: attempts inserted in bulk ----------------------------------------------------------


def some_questions(quiz, rng: random.Random, count: int) -> list[Question]:
    """A mix of every question type the quiz has (matching, multiple response, single choice)."""
    by_type: dict[str, list[Question]] = {}
    for question in quiz.all_questions:
        by_type.setdefault(question.type, []).append(question)
    chosen = [q for questions in by_type.values() for q in questions[:2]]
    rest = [q for q in quiz.all_questions if q not in chosen]
    return chosen + rng.sample(rest, max(0, count - len(chosen)))


def random_response(question: Question, rng: random.Random):
    if rng.random() < 0.05:
        return None  # left open
    if question.type == "matching":
        placed = rng.sample(question.items, rng.randint(0, len(question.items)))
        return {item.id: rng.choice(question.categories).id for item in placed}
    ids = [o.id for o in question.options]
    if question.type == "multiple_response":
        return rng.sample(ids, rng.randint(0, len(ids)))
    return rng.choice(ids)


def seed_attempts(app, user_id: int, quiz, rng: random.Random, attempts: int, questions: list[Question], **kw) -> None:
    """Finished graded attempts of `user_id` with answers graded as the app grades them; attempt percents
    on a coarse scale, so equal percents (ties in the ranking) are common. Options: mode, status,
    quiz_id, finished_at."""
    mode, status = kw.get("mode", AttemptMode.GRADED), kw.get("status", AttemptStatus.FINISHED)
    with app.app_context():
        first = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Attempt.number), 0))) + 1
        rows, items = [], []
        for number in range(first, first + attempts):
            asked = rng.sample(questions, rng.randint(1, min(len(questions), 8)))
            rows.append(
                {
                    "user_id": user_id,
                    "quiz_id": kw.get("quiz_id", quiz.id),
                    "mode": mode,
                    "number": number,
                    "status": status,
                    "content_version": "test",
                    "percent": float(rng.choice(range(0, 101, 10))),
                    "finished_at": kw.get("finished_at"),
                }
            )
            graded = []
            for position, question in enumerate(asked):
                response = random_response(question, rng)
                # A few answers are not scored (an unfinished page): they count for nothing.
                score = None if rng.random() < 0.03 else grade(question, response).score
                graded.append((position, question.id, response, score))
            items.append(graded)
        ids = db.session.scalars(sa.insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), rows).all()
        db.session.execute(
            sa.insert(AttemptItem),
            [
                {
                    "attempt_id": attempt_id,
                    "position": position,
                    "question_id": question_id,
                    "option_order": [],
                    "response": response,
                    "score": score,
                }
                for attempt_id, graded in zip(ids, items, strict=True)
                for position, question_id, response, score in graded
            ],
        )
        db.session.commit()

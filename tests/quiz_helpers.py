"""Helpers for driving quiz attempts through the HTTP interface in tests."""

from __future__ import annotations

import re
from dataclasses import replace

import sqlalchemy as sa

from course.extensions import db
from course.models import Attempt, AttemptItem
from tests.conftest import csrf_token

_REVISION = re.compile(r'name="revision" value="(\d+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def catalog(app):
    return app.extensions["catalog"]


def start(client, quiz_id: str):
    token = csrf_token(client, f"/toetsen/{quiz_id}")
    return client.post(f"/toetsen/{quiz_id}/starten", data={"csrf_token": token})


def practise(client, quiz_id: str):
    token = csrf_token(client, f"/toetsen/{quiz_id}")
    return client.post(f"/toetsen/{quiz_id}/oefenen", data={"csrf_token": token})


def attempt_id_from(response) -> int:
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def load_attempt(app, attempt_id: int) -> tuple[Attempt, list[AttemptItem]]:
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        items = list(
            db.session.scalars(
                sa.select(AttemptItem).where(AttemptItem.attempt_id == attempt_id).order_by(AttemptItem.position)
            )
        )
        db.session.expunge_all()
        return attempt, items


def page_state(client, attempt_id: int) -> tuple[str, str, str]:
    """(html, revision, csrf token) of the open attempt page."""
    html = client.get(f"/pogingen/{attempt_id}").get_data(as_text=True)
    return html, _REVISION.search(html).group(1), _CSRF.search(html).group(1)


def answer_fields(app, attempt_id: int, right: bool | dict[str, bool] = True, page: int | None = None) -> dict:
    """Form fields answering the open page: all right, all wrong, or per question id."""
    attempt, items = load_attempt(app, attempt_id)
    quiz = catalog(app).quiz(attempt.quiz_id)
    page = attempt.page if page is None else page
    fields: dict = {}
    for item in items:
        if item.page != page:
            continue
        question = quiz.question(item.question_id)
        if question is None:  # removed by a newer content version: nothing to answer
            continue
        good = right.get(question.id, True) if isinstance(right, dict) else right
        name = f"q{item.position}"
        if question.type == "matching":
            wrong_category = {
                i.category: next(c.id for c in question.categories if c.id != i.category) for i in question.items
            }
            for row, item_id in enumerate(item.option_order):
                target = question.item(item_id).category
                fields[f"{name}-{row}"] = target if good else wrong_category[target]
        elif question.type == "multiple_response":
            wanted = [o.id for o in question.options if o.correct == good]
            fields[name] = [str(item.option_order.index(oid)) for oid in wanted]
        else:
            oid = next(o.id for o in question.options if o.correct == good)
            fields[name] = str(item.option_order.index(oid))
    return fields


def post_attempt(
    client, attempt_id: int, action: str, fields: dict, revision: str | None = None, token: str | None = None, **extra
):
    if revision is None or token is None:
        _, page_revision, page_token = page_state(client, attempt_id)
        revision = revision if revision is not None else page_revision
        token = token or page_token
    endpoint = "afronden" if action == "finish" else "opslaan"
    data = {"csrf_token": token, "revision": revision, **fields}
    if action == "next":
        data["action"] = "next"
    return client.post(f"/pogingen/{attempt_id}/{endpoint}", data=data, **extra)


def open_decision(app, attempt_id: int):
    """(last page, the decision closing the open page or None) as the app sees the attempt now."""
    from course.quizzes import attempts as ops

    attempt, items = load_attempt(app, attempt_id)
    quiz = catalog(app).quiz(attempt.quiz_id)
    with app.app_context():
        return attempt, ops.last_page(attempt, items, quiz), ops.pending_decision(attempt, items, quiz)


def complete(app, client, attempt_id: int, right: bool | dict[str, bool] = True, choose=lambda pending: 0):
    """Answer every page (unfolding vignette stages; at a decision of a branching case taking the
    choice `choose` picks, by its place on the page) and finish."""
    attempt, last, pending = open_decision(app, attempt_id)
    while attempt.page < last:
        fields = answer_fields(app, attempt_id, right)
        if pending is not None:
            fields["decision"] = str(choose(pending))
        response = post_attempt(client, attempt_id, "next", fields)
        assert response.status_code == 302
        attempt, last, pending = open_decision(app, attempt_id)
    return post_attempt(client, attempt_id, "finish", answer_fields(app, attempt_id, right))


def with_policy(app, monkeypatch, quiz_id: str, **changes) -> None:
    """Swap a quiz's retake policy for one test."""
    from course.catalog.types import Catalog

    current: Catalog = app.extensions["catalog"]
    quiz = current.quiz(quiz_id)
    changed = replace(quiz, policy=replace(quiz.policy, **changes), _by_id={})
    quizzes = tuple(changed if q.id == quiz_id else q for q in current.quizzes)
    monkeypatch.setitem(app.extensions, "catalog", replace(current, quizzes=quizzes))


def only_cases(app, monkeypatch, vignette_ids: list[str], quiz_id: str = "casustoets", **policy) -> None:
    """For one test the case test draws exactly these cases (no tag rule), with `policy` changes."""
    from course.catalog.types import Catalog

    current: Catalog = app.extensions["catalog"]
    quiz = current.quiz(quiz_id)
    changed = replace(
        quiz,
        vignettes=tuple(quiz.vignette(v) for v in vignette_ids),
        vignettes_per_attempt=len(vignette_ids),
        require_covers=(),
        policy=replace(quiz.policy, **policy),
        _by_id={},
    )
    quizzes = tuple(changed if q.id == quiz_id else q for q in current.quizzes)
    monkeypatch.setitem(app.extensions, "catalog", replace(current, quizzes=quizzes))


# --- the whole module ----------------------------------------------------------------------

REQUIRED = ("eindtoets", "casustoets")


def read_all_lessons(app, client) -> None:
    for lesson in catalog(app).lessons:
        token = csrf_token(client, f"/lessen/{lesson.id}")
        client.post(f"/lessen/{lesson.id}/gelezen", data={"csrf_token": token})


def pass_quiz(app, client, quiz_id: str, right: bool = True):
    response = start(client, quiz_id)
    return complete(app, client, attempt_id_from(response), right=right)


def complete_module(app, client) -> None:
    read_all_lessons(app, client)
    for quiz_id in REQUIRED:
        pass_quiz(app, client, quiz_id)

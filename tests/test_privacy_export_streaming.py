"""The personal-data export (JSON) is written while its long lists are read: the same text as the
whole export dumped at once, a fixed number of queries, and memory that does not grow with the number
of attempts and answers."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from course import audit, privacy
from course.extensions import db as _db
from course.models import Attempt, AttemptDecision, AttemptItem, AttemptMode, AttemptStatus, AuditEvent, Role, User
from course.privacy import export_user, json_chunks
from course.timeutil import utcnow
from tests.helpers import statements_during


def materialised(value: Any) -> Any:
    """The export with every iterator read into a list: what json.dumps can write."""
    if isinstance(value, dict):
        return {key: materialised(element) for key, element in value.items()}
    if isinstance(value, Iterator | list):
        return [materialised(element) for element in value]
    return value


def give_history(app, user_id: int, attempts: int, items_per_attempt: int = 10) -> None:
    """Finished practice attempts with answers, a decision each and an audit event each, in bulk."""
    with app.app_context():
        start = utcnow() - timedelta(days=30)
        _db.session.execute(
            sa.insert(Attempt),
            [
                {
                    "user_id": user_id,
                    "quiz_id": "eindtoets",
                    "mode": AttemptMode.PRACTICE,
                    "number": n + 1,
                    "status": AttemptStatus.FINISHED,
                    "content_version": "1",
                    "started_at": start + timedelta(minutes=n),
                    "finished_at": start + timedelta(minutes=n, seconds=30),
                    "points": 7.5,
                    "max_points": 10,
                    "percent": 75.0,
                    "passed": True,
                }
                for n in range(attempts)
            ],
        )
        ids = _db.session.scalars(sa.select(Attempt.id).where(Attempt.user_id == user_id).order_by(Attempt.id)).all()
        _db.session.execute(
            sa.insert(AttemptItem),
            [
                {
                    "attempt_id": attempt_id,
                    "position": position,
                    "question_id": f"vraag-{position}",
                    "option_order": ["a", "b", "c"],
                    "response": {"choice": "b", "note": "één\nregel"},
                    "score": 0.75,
                    "correct": position % 2 == 0,
                }
                for attempt_id in ids
                for position in range(items_per_attempt)
            ],
        )
        _db.session.execute(
            sa.insert(AttemptDecision),
            [
                {
                    "attempt_id": attempt_id,
                    "vignette_id": "casus-1",
                    "stage_id": "start",
                    "choice": "gesprek",
                    "page": 0,
                    "decided_at": start,
                }
                for attempt_id in ids
            ],
        )
        _db.session.execute(
            sa.insert(AuditEvent),
            [
                {
                    "at": start,
                    "actor_id": user_id,
                    "action": "attempt.finish",
                    "subject_type": "user",
                    "subject_id": user_id,
                    "details": {"attempt_id": attempt_id},
                }
                for attempt_id in ids
            ],
        )
        # Inserted in bulk, not through audit.record: their links to the learner by the same rule.
        audit.link_people(_db.session.connection())
        _db.session.commit()


def test_the_chunks_are_the_text_json_dumps_writes():
    data = {
        "leeg": {},
        "lijst": [],
        "geen": iter([]),
        "tekst": 'Zoë "zegt"\nnee',
        "getallen": iter([1, 2.5, None, True]),
        "genest": {"binnen": iter([{"a": [1, {"b": "c"}], "d": {}}, {"e": iter([])}]), "vast": [1, 2]},
    }
    expected = {
        "leeg": {},
        "lijst": [],
        "geen": [],
        "tekst": 'Zoë "zegt"\nnee',
        "getallen": [1, 2.5, None, True],
        "genest": {"binnen": [{"a": [1, {"b": "c"}], "d": {}}, {"e": []}], "vast": [1, 2]},
    }
    assert "".join(json_chunks(data)) == json.dumps(expected, ensure_ascii=False, indent=2)


def test_the_streamed_export_is_the_text_of_the_export_dumped_at_once(app, create_user):
    learner = create_user(name="Anna Cursist")
    give_history(app, learner.id, attempts=25)
    with app.app_context():
        user = _db.session.get(User, learner.id)
        whole = materialised(export_user(user))
        streamed = export_user(user)
        streamed["exported_at"] = whole["exported_at"]
        text = "".join(json_chunks(streamed))
    assert text == json.dumps(whole, ensure_ascii=False, indent=2)
    data = json.loads(text)
    assert len(data["attempts"]) == 25
    assert [i["position"] for i in data["attempts"][3]["items"]] == list(range(10))
    assert data["attempts"][3]["items"][0]["response"] == {"choice": "b", "note": "één\nregel"}
    assert [d["choice"] for d in data["attempts"][3]["decisions"]] == ["gesprek"]
    assert len(data["audit_events_about_you"]) == 25 and data["audit_events_about_you"][0]["by"] == "jijzelf"
    assert len(data["as_trainer_or_admin"]["actions"]) == 25


def test_the_export_page_sends_the_same_statements_for_3_and_60_attempts(app, person):
    statements = {}
    for attempts in (3, 60):
        learner = person(Role.LEARNER, f"Cursist {attempts}")
        give_history(app, learner.id, attempts)
        responses = []

        def download(client=learner.client, r=responses) -> None:
            response = client.get("/account/gegevens.json")
            assert response.status_code == 200 and response.is_streamed
            r.append(response.get_data())  # the body is written (and read) while it is sent

        statements[attempts] = statements_during(app, download)
        (body,) = responses
        assert len(json.loads(body)["attempts"]) == attempts
    assert len(statements[3]) == len(statements[60])


def peak_memory(app, user_id: int) -> int:
    with app.app_context():
        user = _db.session.get(User, user_id)
        tracemalloc.start()
        try:
            written = sum(len(chunk) for chunk in json_chunks(export_user(user)))
            assert written > 0
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.memory
def test_memory_does_not_grow_with_the_attempts_and_answers(app, create_user, monkeypatch):
    """2,000 answers against 20,000 (and as many decisions and audit events per attempt).

    The export holds one batch of rows per list at a time. With the app's batch of 1,000 the smaller
    history (200 attempts and events) does not fill one, so the larger history's peak was the full
    batches against part of one: about 1.95x, passing or failing on noise. Batches of 100 are filled
    by both histories: what is compared is growth with the history, which loading a list whole (10x)
    would show."""
    monkeypatch.setattr(privacy, "BATCH", 100)
    few, many = create_user(name="Weinig Pogingen"), create_user(name="Veel Pogingen")
    give_history(app, few.id, attempts=200)
    give_history(app, many.id, attempts=2_000)
    peak_memory(app, few.id)  # once, so that imports and caches are not counted
    small, large = peak_memory(app, few.id), peak_memory(app, many.id)
    assert large < 2 * small, (small, large)


class BrokenOff(Exception):
    pass


def attempts_then_failure() -> Iterator[dict[str, int]]:
    yield {"id": 1}
    raise BrokenOff


def test_an_export_broken_off_halfway_is_no_valid_json_and_the_error_goes_on():
    sent: list[str] = []
    with pytest.raises(BrokenOff):
        for chunk in json_chunks({"account": {"id": 1}, "attempts": attempts_then_failure()}):
            sent.append(chunk)
    with pytest.raises(json.JSONDecodeError):
        json.loads("".join(sent))

"""Parallel "start" clicks against gunicorn with 2 workers (issue 10, finding 4): per learner and
graded quiz at most one open attempt, never more attempts than the limit, and the cooldown holds
while a finish and new starts race each other."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from tests.system.harness import answers_from_page, csrf, fresh_database, gunicorn, login

pytestmark = pytest.mark.system
QUIZ = "eindtoets"  # max 3 graded attempts, 10 minutes between them
LIMIT = 3
LEARNERS = 5
CLICKS = 20  # parallel requests per learner in every round


def counts(engine: sa.Engine) -> dict[int, tuple[int, int]]:
    """Per learner: (graded attempts, open graded attempts) on the quiz."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT u.id, COUNT(a.id), SUM(CASE WHEN a.status = 'in_progress' THEN 1 ELSE 0 END) FROM users u "
                "LEFT JOIN attempts a ON a.user_id = u.id AND a.quiz_id = :quiz AND a.mode = 'graded' GROUP BY u.id"
            ),
            {"quiz": QUIZ},
        ).all()
    return {user_id: (total, int(open_ or 0)) for user_id, total, open_ in rows}


def open_attempt_ids(engine: sa.Engine) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT user_id, id FROM attempts WHERE mode = 'graded' AND status = 'in_progress'")
        ).all()
    return dict(rows)


def let_the_cooldown_pass(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE attempts SET finished_at = :then WHERE finished_at IS NOT NULL"),
            {"then": datetime.now(UTC) - timedelta(minutes=11)},
        )


class Learner:
    """A signed-in learner whose cookie can be copied into as many parallel clients as needed."""

    def __init__(self, base: str, email: str, engine: sa.Engine) -> None:
        self.base = base
        with engine.connect() as conn:
            self.user_id = conn.execute(sa.text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar_one()
        self.session = requests.Session()
        assert login(self.session, base, email).status_code == 302
        self.token, _ = csrf(self.session, f"{base}/toetsen/{QUIZ}")

    def client(self) -> requests.Session:
        clone = requests.Session()
        clone.cookies.update(self.session.cookies)
        return clone

    def finish_fields(self, attempt_id: int) -> dict[str, str]:
        html = self.session.get(f"{self.base}/pogingen/{attempt_id}", timeout=30).text
        return {**answers_from_page(html), "confirm_incomplete": "1"}


def race(jobs: list) -> list[requests.Response]:
    """Run every job in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        client, url, data = job
        barrier.wait()
        with client:
            return client.post(url, data=data, timeout=60, allow_redirects=False)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def start_jobs(learners: list[Learner], clicks: int) -> list:
    return [
        (learner.client(), f"{learner.base}/toetsen/{QUIZ}/starten", {"csrf_token": learner.token})
        for learner in learners
        for _ in range(clicks)
    ]


def assert_clear_answers(responses: list[requests.Response], allowed: tuple[str, ...]) -> None:
    assert not [r.status_code for r in responses if r.status_code >= 500], "server errors in the race"
    assert {r.status_code for r in responses} == {302}
    for response in responses:
        assert response.headers["Location"].startswith(allowed), response.headers["Location"]


def test_parallel_starts_open_one_attempt_and_never_pass_the_limit(tmp_path):
    # Every start that passes the checks waits 0.3 s before it inserts: a wide window for a race. The
    # pause widens the window; it synchronises nothing, and no assertion depends on it. With the
    # learner's lock the starts queue and the outcome is the same however the threads are scheduled;
    # without it, twenty starts released together by the Barrier all pass the checks inside the window.
    url, env, emails = fresh_database(
        tmp_path, "hechtwijzer_races", LEARNERS, HECHTWIJZER_FAILPOINT="start-after-checks:0.3"
    )
    engine = sa.create_engine(url)
    try:
        with gunicorn(env) as server:
            learners = [Learner(server.base, email, engine) for email in emails]
            for used in range(1, LIMIT + 1):
                # Twenty clicks on "start" at once: one attempt opens, every click lands on it.
                responses = race(start_jobs(learners, CLICKS))
                assert_clear_answers(responses, ("/pogingen/",))
                assert all(c == (used, 1) for c in counts(engine).values()), counts(engine)
                opened = open_attempt_ids(engine)
                for i, learner in enumerate(learners):
                    landed = {r.headers["Location"] for r in responses[i * CLICKS : (i + 1) * CLICKS]}
                    assert landed == {f"/pogingen/{opened[learner.user_id]}"}

                # The finish and nineteen new starts at once: the starts resume the open attempt or
                # meet the cooldown; none opens a second one.
                jobs = []
                for learner in learners:
                    attempt_id = opened[learner.user_id]
                    finish_url = f"{server.base}/pogingen/{attempt_id}/afronden"
                    jobs.append((learner.client(), finish_url, learner.finish_fields(attempt_id)))
                    jobs += start_jobs([learner], CLICKS - 1)
                assert_clear_answers(race(jobs), ("/pogingen/", f"/toetsen/{QUIZ}"))
                assert all(c == (used, 0) for c in counts(engine).values()), counts(engine)
                let_the_cooldown_pass(engine)

            # The limit is used up: every click is refused with the reason, nothing is written.
            responses = race(start_jobs(learners, CLICKS))
            assert_clear_answers(responses, (f"/toetsen/{QUIZ}",))
            assert all(c == (LIMIT, 0) for c in counts(engine).values()), counts(engine)
            detail = learners[0].session.get(f"{server.base}/toetsen/{QUIZ}", timeout=30).text
            assert "Je hebt geen pogingen meer over." in detail
    finally:
        engine.dispose()

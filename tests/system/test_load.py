"""200 learners finish a quiz at the same moment (a group at its deadline), against gunicorn
with 2 workers: no 5xx, and exactly one finished attempt per learner in the database."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from tests.system.harness import fresh_database, gunicorn, login, take_quiz

pytestmark = pytest.mark.system
LEARNERS = 200
QUIZ = "kennischeck-kenmerken-ouder"


def test_two_hundred_learners_finish_a_quiz_at_once(tmp_path):
    url, env, emails = fresh_database(tmp_path, "hechtwijzer_load", LEARNERS)
    with gunicorn(env) as server:

        def learner(email: str) -> list[int]:
            with requests.Session() as session:
                statuses = [login(session, server.base, email).status_code]
                return statuses + take_quiz(session, server.base, QUIZ)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(learner, emails))
        duration = time.monotonic() - started
    print(f"\n{LEARNERS} learners logged in, started and finished {QUIZ} in {duration:.1f} s")
    statuses = [s for r in results for s in r]
    assert not [s for s in statuses if s >= 500], "server errors under load"
    assert all(r == [302, 200, 200] for r in results), {tuple(r) for r in results}

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        per_user = conn.execute(
            sa.text(
                "SELECT u.email, COUNT(a.id), SUM(CASE WHEN a.status = 'finished' THEN 1 ELSE 0 END) "
                "FROM users u LEFT JOIN attempts a ON a.user_id = u.id GROUP BY u.email"
            )
        ).all()
        unscored = conn.execute(sa.text("SELECT COUNT(*) FROM attempt_items WHERE score IS NULL")).scalar()
        integrity = (
            conn.execute(sa.text("PRAGMA integrity_check")).scalar() if engine.dialect.name == "sqlite" else "ok"
        )
    engine.dispose()
    assert len(per_user) == LEARNERS
    assert all(count == 1 and finished == 1 for _email, count, finished in per_user), "lost or duplicated attempts"
    assert unscored == 0
    assert integrity == "ok"

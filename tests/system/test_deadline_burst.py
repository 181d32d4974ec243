"""A deadline at size: 1,000 learners finish the final test within one minute, against PostgreSQL and
gunicorn with 4 workers. No response is a 5xx, every learner ends with exactly one finished, graded
attempt holding all their saved answers, and the p95 latency is reported (docs/benchmarks.md).

First every learner (seeded in bulk, fast password hashes) signs in, starts the final test and saves
their answers, as they would over the preceding hour. Then the finishes arrive as an open stream: each
learner's at a seeded random moment within the minute, whatever the server's speed, so a slow server
shows as latency (not as a politely slower client)."""

from __future__ import annotations

import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa

from tests.system.harness import answers_from_page, csrf, fresh_database, gunicorn, login, postgresql_only

pytestmark = [pytest.mark.system, postgresql_only]
LEARNERS = 1_000
WORKERS = 4
MINUTE = 60.0
QUIZ = "eindtoets"
QUESTIONS = 16
# Client threads: enough that a finish never waits for a free thread while the server is slow.
BURST_THREADS = 200
PREPARE_THREADS = 16


@dataclass
class Learner:
    email: str
    session: requests.Session
    attempt_id: int = 0
    answers: dict[str, str] | None = None


@dataclass
class Finish:
    status: int
    finish_seconds: float  # the finish POST
    result_seconds: float  # the result page it leads to
    start_lag: float  # how late the client sent it (thread scheduling); must stay small to mean anything
    verdict_shown: bool


def prepare(learner: Learner, base: str, statuses: list[int]) -> None:
    """Sign in, start the final test, save every answer: the state an hour before the deadline."""
    session = learner.session
    signed_in = login(session, base, learner.email)
    statuses.append(signed_in.status_code)
    assert signed_in.status_code == 302, signed_in.status_code
    token, _ = csrf(session, f"{base}/toetsen/{QUIZ}")
    started = session.post(f"{base}/toetsen/{QUIZ}/starten", data={"csrf_token": token}, timeout=60)
    statuses.append(started.status_code)
    assert started.status_code == 200 and "/pogingen/" in started.url, started.status_code
    learner.attempt_id = int(started.url.rsplit("/", 1)[1])
    answers = answers_from_page(started.text)
    saved = session.post(
        f"{base}/pogingen/{learner.attempt_id}/opslaan", data=answers, timeout=60, allow_redirects=False
    )
    statuses.append(saved.status_code)
    assert saved.status_code == 302, saved.status_code
    # The page after a save carries the next revision; the learner's browser would post that.
    learner.answers = {**answers, "revision": str(int(answers["revision"]) + 1), "confirm_incomplete": "1"}


def finish(learner: Learner, base: str, due: float) -> Finish:
    lag = time.monotonic() - due
    session = learner.session
    started = time.perf_counter()
    finished = session.post(
        f"{base}/pogingen/{learner.attempt_id}/afronden", data=learner.answers, timeout=120, allow_redirects=False
    )
    finish_seconds = time.perf_counter() - started
    if finished.status_code != 302:
        return Finish(finished.status_code, finish_seconds, 0.0, lag, False)
    started = time.perf_counter()
    result = session.get(f"{base}{finished.headers['Location']}", timeout=120)
    result_seconds = time.perf_counter() - started
    shown = "Geslaagd met" in result.text or "Niet geslaagd:" in result.text
    return Finish(max(finished.status_code, result.status_code), finish_seconds, result_seconds, lag, shown)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def test_a_thousand_learners_finish_the_final_test_in_the_last_minute(tmp_path, capsys):
    url, env, emails = fresh_database(tmp_path, "hechtwijzer_burst", LEARNERS)
    learners = [Learner(email, requests.Session()) for email in emails]
    arrivals = random.Random(15).sample(range(int(MINUTE * 1000)), LEARNERS)  # ms into the minute, distinct
    prepare_statuses: list[int] = []
    lock = threading.Lock()
    with gunicorn(env, workers=WORKERS, timeout=60, start_seconds=120) as server:
        assert len(server.worker_pids()) == WORKERS
        began = time.monotonic()

        def prepare_one(learner: Learner) -> None:
            seen: list[int] = []
            try:
                prepare(learner, server.base, seen)
            finally:
                with lock:
                    prepare_statuses.extend(seen)

        with ThreadPoolExecutor(max_workers=PREPARE_THREADS) as pool:
            list(pool.map(prepare_one, learners))
        prepared = time.monotonic() - began

        zero = time.monotonic() + 1.0  # the minute starts once every thread has its task
        with ThreadPoolExecutor(max_workers=BURST_THREADS) as pool:

            def at_its_moment(pair: tuple[Learner, int]) -> Finish:
                learner, offset_ms = pair
                due = zero + offset_ms / 1000
                time.sleep(max(0.0, due - time.monotonic()))  # the arrival schedule, not synchronisation
                return finish(learner, server.base, due)

            finishes = list(pool.map(at_its_moment, zip(learners, arrivals, strict=True)))
        burst = time.monotonic() - zero
        server_log = server.log.read_text(encoding="utf-8", errors="replace")
    for learner in learners:
        learner.session.close()

    finish_times = [f.finish_seconds for f in finishes]
    result_times = [f.result_seconds for f in finishes if f.status < 400]
    with capsys.disabled():
        print(
            f"\ndeadline burst: {LEARNERS} learners, gunicorn {WORKERS} workers, PostgreSQL; "
            f"preparation (sign in, start, save) {prepared:.1f} s; finishes spread over {MINUTE:.0f} s, "
            f"last answer after {burst:.1f} s\n"
            f"  finish POST: median {statistics.median(finish_times) * 1000:.0f} ms, "
            f"p95 {p95(finish_times) * 1000:.0f} ms, max {max(finish_times) * 1000:.0f} ms\n"
            f"  result page: median {statistics.median(result_times) * 1000:.0f} ms, "
            f"p95 {p95(result_times) * 1000:.0f} ms; client start lag max {max(f.start_lag for f in finishes) * 1000:.0f} ms"
        )

    assert not [s for s in prepare_statuses if s >= 500], "server errors while preparing"
    assert not [f.status for f in finishes if f.status >= 500], "server errors in the burst"
    assert all(f.status == 200 and f.verdict_shown for f in finishes), {f.status for f in finishes}
    assert "Traceback" not in server_log

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        per_learner = conn.execute(
            sa.text(
                "SELECT u.email, COUNT(a.id), "
                "COUNT(a.id) FILTER (WHERE a.status = 'finished' AND a.mode = 'graded' AND a.quiz_id = :quiz) "
                "FROM users u LEFT JOIN attempts a ON a.user_id = u.id GROUP BY u.email"
            ),
            {"quiz": QUIZ},
        ).all()
        items = conn.execute(
            sa.text(
                "SELECT COUNT(*), COUNT(i.response), COUNT(i.score), COUNT(DISTINCT i.attempt_id) "
                "FROM attempt_items i JOIN attempts a ON a.id = i.attempt_id"
            )
        ).one()
    engine.dispose()
    assert len(per_learner) == LEARNERS
    assert all(count == 1 and finished == 1 for _email, count, finished in per_learner), "lost or duplicated"
    assert tuple(items) == (LEARNERS * QUESTIONS, LEARNERS * QUESTIONS, LEARNERS * QUESTIONS, LEARNERS), (
        "every attempt keeps all 16 answers, scored"
    )
    # The client kept the schedule: the stream really arrived within the minute.
    assert max(f.start_lag for f in finishes) < 5.0

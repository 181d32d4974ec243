"""Faults a deployment meets: a worker killed mid-submit, a locked or full SQLite file, a
PostgreSQL restart. Requests fail cleanly (never a 500, never half-saved) and work again after."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading

import pytest
import requests
import sqlalchemy as sa

from tests.system.harness import (
    Failpoint,
    answers_from_page,
    csrf,
    fresh_database,
    gunicorn,
    login,
    take_quiz,
    wait_until_live,
)

pytestmark = pytest.mark.system
QUIZ = "kennischeck-inleiding"
ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def attempt_rows(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT a.id, a.status, a.revision, COUNT(i.id), SUM(CASE WHEN i.score IS NULL THEN 0 ELSE 1 END) "
                "FROM attempts a LEFT JOIN attempt_items i ON i.attempt_id = a.id GROUP BY a.id, a.status, a.revision ORDER BY a.id"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def test_a_worker_killed_mid_submit_leaves_no_partial_attempt(tmp_path):
    point = Failpoint(tmp_path / "failpoints", "finish-before-commit")
    url, env, [email] = fresh_database(tmp_path, "hechtwijzer_kill", 1, **point.env())
    with gunicorn(env) as server, requests.Session() as session:
        login(session, server.base, email)
        token, _ = csrf(session, f"{server.base}/toetsen/{QUIZ}")
        page = session.post(f"{server.base}/toetsen/{QUIZ}/starten", data={"csrf_token": token}, timeout=30)
        fields = answers_from_page(page.text)
        outcome: dict[str, object] = {}

        def submit():
            try:
                outcome["response"] = session.post(f"{page.url}/afronden", data=fields, timeout=30)
            except requests.RequestException as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=submit)
        thread.start()
        # The worker signals that it holds the submit just before its commit: only then is it killed.
        worker = point.wait_until_reached()
        assert worker in server.worker_pids()
        os.kill(worker, signal.SIGKILL)
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert "response" not in outcome, f"the killed worker answered: {outcome.get('response')}"
        assert isinstance(outcome["error"], requests.ConnectionError), repr(outcome["error"])

        [(_attempt_id, status, revision, _items, scored)] = attempt_rows(url)
        assert (status, revision, scored) == ("in_progress", 0, 0), "nothing of the killed submit was saved"

        # gunicorn starts a new worker; the learner finishes normally (the failpoint holds only once).
        assert wait_until_live(server.base, 20), "gunicorn brought no new workers up"
        retry = session.post(f"{page.url}/afronden", data=fields, timeout=30)
        assert retry.status_code == 200 and retry.url.endswith("/resultaat")
    [(_, status, revision, items, scored)] = attempt_rows(url)
    assert (status, revision, scored) == ("finished", 1, items)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite file locking")
def test_a_locked_sqlite_database_gives_a_clear_503_and_stays_intact(tmp_path):
    url, env, [email] = fresh_database(tmp_path, "hechtwijzer_locked", 1, SQLITE_BUSY_TIMEOUT_MS="300")
    with gunicorn(env) as server, requests.Session() as session:
        login(session, server.base, email)
        token, _ = csrf(session, f"{server.base}/lessen/inleiding")
        blocker = sqlite3.connect(sqlite_path(url), timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            response = session.post(f"{server.base}/lessen/inleiding/gelezen", data={"csrf_token": token}, timeout=30)
            assert response.status_code == 503
            assert "niet bereikbaar of bezet" in response.text
            assert "Er is niets opgeslagen" in response.text
        finally:
            blocker.rollback()
            blocker.close()
        again = session.post(f"{server.base}/lessen/inleiding/gelezen", data={"csrf_token": token}, timeout=30)
        assert again.status_code == 200
    with sqlite3.connect(sqlite_path(url)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM lesson_reads").fetchone()[0] == 1


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite page limit stands in for a full disk")
def test_a_full_sqlite_database_gives_a_clear_503_and_no_half_saved_attempt(tmp_path):
    url, env, emails = fresh_database(tmp_path, "hechtwijzer_full", 40)
    with sqlite3.connect(sqlite_path(url)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    env["SQLITE_MAX_PAGE_COUNT"] = str(pages + 3)  # a few pages left, as on a nearly full disk
    statuses: list[int] = []
    with gunicorn(env) as server:
        for email in emails:
            with requests.Session() as session:
                statuses.append(login(session, server.base, email).status_code)
                statuses += take_quiz(session, server.base, "kennischeck-kenmerken-ouder")
            if 503 in statuses:
                break
        # A full database still answers reads: the health check finds it reachable.
        health = requests.get(f"{server.base}/healthz", timeout=10)
    assert 503 in statuses, "the page limit was never reached"
    assert not [s for s in statuses if s >= 500 and s != 503]
    assert (health.status_code, health.json()) == (200, {"status": "ok", "database": "ok"})
    with sqlite3.connect(sqlite_path(url)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for _id, status, _revision, items, scored in attempt_rows(url):
        assert items > 0, "an attempt without its questions"
        assert scored in (0, items), "a half-scored attempt"
        assert (status == "finished") == (scored == items)


@pytest.mark.skipif(
    not (ON_POSTGRES and os.environ.get("PG_DATA")), reason="needs the PostgreSQL server of scripts/test.sh"
)
def test_postgres_restart_mid_run_fails_cleanly_and_recovers(tmp_path):
    _url, env, [email] = fresh_database(tmp_path, "hechtwijzer_restart", 1)
    data_dir = os.environ["PG_DATA"]
    # -l: the restarted server must not inherit our pipes (it would hold them open forever).
    log_file = os.path.join(os.path.dirname(data_dir), "restart.log")
    pg_ctl = [
        os.path.join(os.environ["PG_BIN"], "pg_ctl"),
        "-D",
        data_dir,
        "-l",
        log_file,
        "-m",
        "fast",
        "-w",
        "restart",
    ]
    if os.environ.get("PG_RUN_AS"):
        pg_ctl = ["runuser", "-u", os.environ["PG_RUN_AS"], "--", *pg_ctl]
    with gunicorn(env) as server, requests.Session() as session:
        assert login(session, server.base, email).status_code == 302
        assert session.get(f"{server.base}/lessen/inleiding", timeout=10).status_code == 200
        statuses: list[int] = []
        stop = threading.Event()
        answered = threading.Condition()

        def hammer():
            while not stop.is_set():
                try:
                    status = session.get(f"{server.base}/lessen/inleiding", timeout=10).status_code
                except requests.RequestException:
                    status = -1
                with answered:
                    statuses.append(status)
                    answered.notify_all()

        thread = threading.Thread(target=hammer)
        thread.start()
        subprocess.run(
            pg_ctl, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # The hammer goes on until five more answers have come in after the restart completed.
        with answered:
            restarted = len(statuses)
            assert answered.wait_for(lambda: len(statuses) >= restarted + 5, timeout=30)
        stop.set()
        thread.join()
        assert 500 not in statuses and -1 not in statuses, sorted(set(statuses))
        # After the restart every request works again: stale pooled connections are replaced.
        after = [session.get(f"{server.base}/lessen/inleiding", timeout=10).status_code for _ in range(10)]
        assert after == [200] * 10
        assert take_quiz(session, server.base, QUIZ) == [200, 200]

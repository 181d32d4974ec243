"""Benchmark: memory and time of the streamed exports as they grow (target: peak under 100 MB at 100,000 rows).

The accreditation exports (CSV and XLSX) of one group of N learners, each with a valid certificate (so
the export has N rows), and the personal-data export (JSON) of one learner with many attempts. Every
export is downloaded through the app's own page (test client, read in pieces as a browser would) and
measured twice: once for time (wall and worker CPU, time.process_time) and peak RSS growth, once under
tracemalloc for the Python heap's peak (tracemalloc slows the run several times over).

Run: .venv/bin/python -m bench.exports [--sizes 1000 10000 100000] [--answers 100000] [--no-tracemalloc]
Uses a throwaway SQLite database, or TEST_DATABASE_URL for PostgreSQL (its schema is dropped first!).
Rows are seeded in bulk (executemany in batches), not through the ORM one by one.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench.database import fresh_app
from course import audit
from course.auth import accounts
from course.extensions import db
from course.models import (
    Attempt,
    AttemptItem,
    AttemptMode,
    AttemptStatus,
    AuditEvent,
    Certificate,
    Group,
    GroupMember,
    Role,
    User,
)
from course.timeutil import utcnow

PASSWORD = "bench-password-123"
BATCH = 10_000
TARGET_MB = 100


def insert_in_batches(table, rows: Iterator[dict]) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(sa.insert(table), batch)
            batch = []
    if batch:
        db.session.execute(sa.insert(table), batch)


def seed_group(trainer_id: int, module_id: str, size: int) -> int:
    """A group of `size` new learners, each with a valid certificate: an export of `size` rows."""
    now = utcnow()
    group_id = db.session.execute(
        sa.insert(Group).values(name=f"Groep {size}", trainer_id=trainer_id)
    ).inserted_primary_key[0]
    prefix = f"g{size}"
    insert_in_batches(
        User,
        (
            {
                "email": f"{prefix}.{n}@bench.example",
                "display_name": f"Cursist {n:06d} van Dijk",
                "password_hash": "x",
                "role": Role.LEARNER,
                "created_at": now,
            }
            for n in range(size)
        ),
    )
    ids = db.session.scalars(sa.select(User.id).where(User.email.like(f"{prefix}.%@bench.example"))).all()
    insert_in_batches(GroupMember, ({"group_id": group_id, "user_id": uid, "joined_at": now} for uid in ids))
    insert_in_batches(
        Certificate,
        (
            {
                "user_id": uid,
                "module_id": module_id,
                "sequence": 1,
                "verification_code": f"B{uid:012d}",
                "learner_name": f"Cursist {uid:06d} van Dijk",
                "register_name": "SKJ",
                "register_number": f"{uid:08d}",
                "module_title": "Hechtwijzer: hechting, risico- en beschermende factoren",
                "content_version": "1",
                "study_load": "4 uur",
                "accreditation_body": "Stichting Kwaliteitsregister Jeugd",
                "accreditation_points": "4",
                "accreditation_activity_id": "ACT-2026-17",
                "completed_on": date(2026, 5, 1) + timedelta(days=uid % 150),
                "issued_at": now,
            }
            for uid in ids
        ),
    )
    db.session.commit()
    return group_id


def seed_history(user_id: int, answers: int, per_attempt: int = 10) -> None:
    """Finished practice attempts of `per_attempt` answers each, and an audit event per attempt."""
    start = utcnow() - timedelta(days=365)
    attempts = max(1, answers // per_attempt)
    insert_in_batches(
        Attempt,
        (
            {
                "user_id": user_id,
                "quiz_id": "eindtoets",
                "mode": AttemptMode.PRACTICE,
                "number": n + 1,
                "status": AttemptStatus.FINISHED,
                "content_version": "1",
                "started_at": start + timedelta(minutes=n),
                "finished_at": start + timedelta(minutes=n, seconds=40),
                "points": 7.5,
                "max_points": 10,
                "percent": 75.0,
                "passed": True,
            }
            for n in range(attempts)
        ),
    )
    ids = db.session.scalars(sa.select(Attempt.id).where(Attempt.user_id == user_id)).all()
    insert_in_batches(
        AttemptItem,
        (
            {
                "attempt_id": attempt_id,
                "position": position,
                "question_id": f"eindtoets-vraag-{position:02d}",
                "option_order": ["a", "b", "c", "d"],
                "response": {"choice": "b"},
                "score": 1.0,
                "correct": True,
            }
            for attempt_id in ids
            for position in range(per_attempt)
        ),
    )
    insert_in_batches(
        AuditEvent,
        (
            {
                "at": start,
                "actor_id": user_id,
                "action": "attempt.finish",
                "subject_type": "user",
                "subject_id": user_id,
                "details": {"attempt_id": attempt_id},
            }
            for attempt_id in ids
        ),
    )
    # Whom those events are about, as record() would have written it (course/audit.py).
    audit.link_people(db.session.connection())
    db.session.commit()


def signed_in(app: Flask, email: str) -> FlaskClient:
    from tests.conftest import csrf_token

    client = app.test_client()
    token = csrf_token(client, "/inloggen")
    response = client.post("/inloggen", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"sign-in failed for the bench account ({response.status_code})"
    return client


def download(client: FlaskClient, url: str) -> int:
    """Read the response in the pieces it is sent in, keeping none: the bytes received."""
    response = client.get(url, buffered=False)
    assert response.status_code == 200, (url, response.status_code)
    received = 0
    try:
        for chunk in response.iter_encoded():
            received += len(chunk)
    finally:
        response.close()
    return received


def current_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets the process's peak RSS (VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Measure:
    wall: float
    cpu: float
    rss_growth: int  # the larger of the first run's and the second's
    heap_peak: int | None
    size: int


def measure(action: Callable[[], int], with_tracemalloc: bool) -> Measure:
    before = current_rss()
    reset_peak_rss()
    action()  # warm-up (imports, caches, the statement cache): its RSS growth counts too
    first_growth = max(0, peak_rss() - before)
    before = current_rss()
    reset_peak_rss()
    wall, cpu = time.perf_counter(), time.process_time()
    size = action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss_growth = max(first_growth, peak_rss() - before)
    heap_peak = None
    if with_tracemalloc:
        tracemalloc.start()
        try:
            action()
            heap_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return Measure(wall, cpu, rss_growth, heap_peak, size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--answers", type=int, default=100_000, help="answers of the learner whose data is exported")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the (slow) tracemalloc runs")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = fresh_app(url)
    with app.app_context():
        trainer = accounts.create_user("trainer@bench.example", "Bench Trainer", PASSWORD, Role.TRAINER)
        learner = accounts.create_user("learner@bench.example", "Bench Cursist", PASSWORD, Role.LEARNER)
        db.session.commit()
        trainer_id, learner_id = trainer.id, learner.id
        module_id = app.extensions["catalog"].module.id
        groups = {}
        for size in args.sizes:
            started = time.perf_counter()
            groups[size] = seed_group(trainer_id, module_id, size)
            print(f"seeded a group of {size} certified learners in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        seed_history(learner_id, args.answers)
        print(f"seeded {args.answers} answers for one learner in {time.perf_counter() - started:.1f} s", flush=True)
        dialect = db.engine.dialect.name
    trainer_client = signed_in(app, "trainer@bench.example")
    learner_client = signed_in(app, "learner@bench.example")

    results: list[tuple[str, int, Measure]] = []
    for kind in ("csv", "xlsx"):
        for size, group_id in groups.items():
            export_url = f"/trainer/groepen/{group_id}/accreditatie.{kind}"
            found = measure(lambda u=export_url: download(trainer_client, u), not args.no_tracemalloc)
            results.append((kind, size, found))
            print(f"measured {kind} at {size} rows", flush=True)
    found = measure(lambda: download(learner_client, "/account/gegevens.json"), not args.no_tracemalloc)
    results.append(("json", args.answers, found))

    mb = 1024 * 1024
    print(f"\ndatabase: {dialect}")
    print("export  rows/answers   wall s   CPU s   file MB   RSS growth MB   tracemalloc peak MB")
    within = True
    for kind, size, m in results:
        heap = "-" if m.heap_peak is None else f"{m.heap_peak / mb:.1f}"
        print(
            f"{kind:<6}  {size:>12}  {m.wall:7.2f}  {m.cpu:6.2f}  {m.size / mb:8.1f}  {m.rss_growth / mb:14.1f}"
            f"  {heap:>20}"
        )
        within &= m.rss_growth < TARGET_MB * mb and (m.heap_peak or 0) < TARGET_MB * mb
    print(f"every export's peak under {TARGET_MB} MB: {'yes' if within else 'NO'}")
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: trainer dashboard time for groups of growing size (target: at most linear growth).

Run: .venv/bin/python -m bench.dashboard [--sizes 1000 2000 5000 10000] [--repeat 5]
Uses a throwaway SQLite database (or TEST_DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from bench.database import fresh_app
from course.auth import accounts
from course.extensions import db
from course.models import Role
from course.seeding import seed_group


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 2_000, 5_000, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = fresh_app(url)
    with app.app_context():
        trainer = accounts.create_user("trainer@bench.example", "Bench Trainer", "bench-password-123", Role.TRAINER)
        db.session.commit()
        groups = {}
        for size in args.sizes:
            started = time.perf_counter()
            groups[size] = seed_group(trainer, size, app.extensions["catalog"]).id
            db.session.commit()
            print(f"seeded {size} learners in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    with app.test_request_context():
        pass
    from tests.conftest import csrf_token

    token = csrf_token(client, "/inloggen")
    client.post(
        "/inloggen", data={"email": "trainer@bench.example", "password": "bench-password-123", "csrf_token": token}
    )
    results = {}
    for size, group_id in groups.items():
        client.get(f"/trainer/groepen/{group_id}")  # warm-up
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(f"/trainer/groepen/{group_id}?sorteer=status")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        results[size] = statistics.median(times)
    base_size = min(results)
    print(f"database: {db.engine.dialect.name if False else url.split(':')[0]}")
    print("learners  median ms  ms per 1k learners  growth vs smallest (size ratio)")
    for size, seconds in sorted(results.items()):
        print(
            f"{size:>8}  {seconds * 1000:9.1f}  {seconds * 1000 / (size / 1000):18.1f}  {seconds / results[base_size]:6.2f}x ({size / base_size:.0f}x)"
        )
    largest = max(results)
    linear = results[largest] / results[base_size] <= 1.25 * largest / base_size
    print(f"growth at most linear (within 25%): {'yes' if linear else 'NO'}")
    return 0 if linear else 1


if __name__ == "__main__":
    raise SystemExit(main())

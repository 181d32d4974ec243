"""Bulk demo and benchmark data: a trainer's group of N learners with realistic progress.

Uses core bulk inserts (one executemany per table), so 10,000 learners take seconds.
"""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from course.catalog import Catalog
from course.certificates.codes import new_code
from course.extensions import db
from course.models import (
    Attempt,
    AttemptMode,
    AttemptStatus,
    Certificate,
    Group,
    GroupMember,
    LessonRead,
    Role,
    User,
)
from course.timeutil import utcnow
from course.trainer import progress

# Not a usable password hash: seeded learners cannot log in.
UNUSABLE_PASSWORD = "seeded:!"


def seed_group(trainer: User, learners: int, catalog: Catalog, name: str | None = None, seed: int = 7) -> Group:
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo data, not secrets
    now = utcnow()
    group = Group(name=name or f"Groep van {learners}", trainer_id=trainer.id, enrolment_code=None)
    db.session.add(group)
    db.session.flush()
    first_id = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
    tag = f"g{group.id}"
    db.session.execute(
        sa.insert(User),
        [
            {
                "id": first_id + i,
                "email": f"cursist{i}.{tag}@example.org",
                "display_name": f"Cursist {i:05d}",
                "password_hash": UNUSABLE_PASSWORD,
                "role": Role.LEARNER,
                "active": True,
                "created_at": now - timedelta(days=30),
                # Demo learners: verified, as their seeded certificates need.
                "email_verified_at": now - timedelta(days=30),
            }
            for i in range(learners)
        ],
    )
    user_ids = [first_id + i for i in range(learners)]
    db.session.execute(
        sa.insert(GroupMember),
        [{"group_id": group.id, "user_id": uid, "joined_at": now - timedelta(days=30)} for uid in user_ids],
    )
    reads, attempts, certificates = [], [], []
    required = catalog.module.completion.quizzes_passed
    for uid in user_ids:
        lessons_read = rng.randint(0, len(catalog.lessons))
        for lesson in catalog.lessons[:lessons_read]:
            reads.append(
                {
                    "user_id": uid,
                    "lesson_id": lesson.id,
                    "content_version": catalog.module.content_version,
                    "read_at": now - timedelta(days=rng.randint(1, 29)),
                }
            )
        passed_all = lessons_read == len(catalog.lessons)
        for quiz_id in required:
            for number in range(1, rng.randint(0, 2) + 1 if lessons_read else 1):
                percent = rng.choice([45.0, 60.0, 72.5, 85.0, 100.0])
                passed_all = passed_all and percent >= 70
                attempts.append(
                    {
                        "user_id": uid,
                        "quiz_id": quiz_id,
                        "mode": AttemptMode.GRADED,
                        "number": number,
                        "status": AttemptStatus.FINISHED,
                        "page": 0,
                        "revision": 1,
                        "content_version": catalog.module.content_version,
                        "started_at": now - timedelta(days=3, minutes=30),
                        "finished_at": now - timedelta(days=3),
                        "points": percent / 10,
                        "max_points": 10,
                        "percent": percent,
                        "passed": percent >= 70,
                    }
                )
        if passed_all and rng.random() < 0.9:
            certificates.append(
                {
                    "user_id": uid,
                    "module_id": catalog.module.id,
                    "sequence": 1,
                    "verification_code": new_code(),
                    "learner_name": f"Cursist {uid}",
                    "module_title": catalog.module.title,
                    "content_version": catalog.module.content_version,
                    "study_load": catalog.module.study_load,
                    "completed_on": (now - timedelta(days=2)).date(),
                    "issued_at": now - timedelta(days=2),
                    "status": "valid",
                }
            )
    for table, rows in ((LessonRead, reads), (Attempt, attempts), (Certificate, certificates)):
        if rows:
            db.session.execute(sa.insert(table), rows)
    if db.engine.dialect.name == "postgresql":
        # Explicit ids above: move the sequence past them.
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))"))
    db.session.flush()
    progress.rebuild_group(db.session.connection(), group.id, catalog)
    return group

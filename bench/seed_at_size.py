"""An institute at size for the bench (issue 15): one trainer's group of N learners, seeded in bulk.

`seed_at_size(engine, catalog, learners)` writes, in one transaction, the rows the app itself writes
for learners who read lessons, take knowledge checks and the graded tests (with answers valid for
the questions, graded by the app's own grader), practise their mistakes, get certificates (some
revoked, expired or reissued) and have a deadline, plus the audit events of every finish and
certificate, with their links to the people they are about (by the app's own set-based function,
course/audit.py link_people). About 10 answers per learner (1,000,000 at 100,000 learners); about a
third certified.

Bulk, not the ORM row by row: on SQLite one executemany of a core insert per table and chunk, on
PostgreSQL COPY through psycopg. Ids are given explicitly (and the PostgreSQL sequences moved past
them), so attempts, items and audit events can point at each other without reading anything back.
Everything is drawn from `random.Random(seed)`: the same seed and `now` give the same rows.

Run on its own: .venv/bin/python -m bench.seed_at_size --learners 10000 [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from course import audit
from course.catalog import Catalog
from course.certificates.issuing import add_months
from course.models import (
    Assignment,
    Attempt,
    AttemptDecision,
    AttemptItem,
    AuditEvent,
    AuditEventPerson,
    Certificate,
    Group,
    GroupMember,
    LessonRead,
    User,
)
from course.quizzes.definitions import Question, Quiz, QuizKind
from course.quizzes.grading import grade, key_of
from course.quizzes.selection import PlannedItem, display_order, plan_attempt, plan_stages
from course.timeutil import local_date, utcnow
from course.trainer import progress

# The password of the trainer, the admin and the sample learner (the bench signs in with it).
# Every other seeded learner has an unusable hash and cannot sign in, as in course/seeding.py.
PASSWORD = "bench-wachtwoord-123"
UNUSABLE_PASSWORD = "seeded:!"
CHUNK = 2_000  # learners per batch of inserts: bounded memory at 100,000 learners
PLANS_PER_QUIZ = 256  # attempts draw from this many planned attempts per quiz (planning is the slow part)

FIRST_NAMES = [
    "Anna",
    "Bram",
    "Daan",
    "Emma",
    "Fatima",
    "Femke",
    "Hamza",
    "Iris",
    "Jesse",
    "Julia",
    "Kevin",
    "Lars",
    "Lisa",
    "Lotte",
    "Mohamed",
    "Noah",
    "Noor",
    "Roos",
    "Ruben",
    "Sanne",
    "Sara",
    "Sem",
    "Sophie",
    "Thijs",
    "Tim",
    "Yara",
    "Youssef",
    "Zoë",
    "Eva",
    "Milan",
    "Bilal",
    "Ayşe",
    "Mila",
    "Finn",
    "Liam",
    "Nina",
]
SURNAMES = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "Kaya",
    "Yilmaz",
    "El Amrani",
    "Öztürk",
    "Bouzid",
    "Kramer",
    "Verhoeven",
    "Koster",
    "Prins",
    "Huisman",
    "Willems",
]


@dataclass(frozen=True)
class SeededInstitute:
    """What the bench needs to find its way in the seeded data."""

    trainer_id: int
    admin_id: int
    group_id: int
    sample_learner_id: int  # many attempts of every kind, a reissued certificate: the learner pages
    trainer_email: str
    admin_email: str
    sample_learner_email: str
    search_name: str  # a surname shared by many learners (the dashboard search)
    learners: int
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table
    seconds: float = 0.0  # wall time
    cpu_seconds: float = 0.0  # this process's CPU time (on PostgreSQL the server's work is not in it)


@dataclass(frozen=True)
class _Plan:
    items: tuple[PlannedItem, ...]
    decisions: tuple[tuple[str, str, str, int], ...]  # (vignette id, stage id, chosen stage id, page)


class _Ids:
    """The next free id per table (explicit ids: rows refer to each other without reading back)."""

    def __init__(self, conn: sa.Connection, tables: list[sa.Table]) -> None:
        self.next = {t.name: (conn.scalar(sa.select(sa.func.max(t.c.id))) or 0) + 1 for t in tables}

    def take(self, table: sa.Table) -> int:
        value = self.next[table.name]
        self.next[table.name] += 1
        return value


class _Writer:
    """Bulk inserts: executemany of a core insert, or COPY on PostgreSQL. Rows name every column."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.copy = conn.dialect.name == "postgresql"
        self.rows: Counter = Counter()

    def write(self, table: sa.Table, rows: list[dict]) -> None:
        if not rows:
            return
        columns = [c.name for c in table.columns]
        missing = set(columns) ^ set(rows[0])
        assert not missing, f"{table.name}: rows must name exactly its columns ({sorted(missing)})"
        self.rows[table.name] += len(rows)
        if not self.copy:
            self.conn.execute(sa.insert(table), rows)
            return
        json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
        cursor = self.conn.connection.driver_connection.cursor()
        names = ", ".join(f'"{name}"' for name in columns)
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        (None if row[name] is None else json.dumps(row[name])) if name in json_columns else row[name]
                        for name in columns
                    ]
                )


def _wrong_response(question: Question, rng: random.Random) -> object:
    """A response that is valid for the question but not the key (scores 0)."""
    if question.type == "multiple_response":
        wrong = [o.id for o in question.options if not o.correct]
        return [rng.choice(wrong)] if wrong else []
    if question.type == "matching":
        categories = [c.id for c in question.categories]
        return {item.id: next(c for c in categories if c != item.category) for item in question.items}
    return rng.choice([o.id for o in question.options if not o.correct])


def _response(question: Question, ability: float, rng: random.Random) -> object:
    roll = rng.random()
    if roll < 0.02:
        return None  # left unanswered
    if roll < 0.02 + ability:
        return key_of(question)
    return _wrong_response(question, rng)


def _plans(quiz: Quiz, rng: random.Random) -> list[_Plan]:
    """Planned attempts as the app plans them; a branching case follows a drawn route to its end."""
    plans = []
    for _ in range(PLANS_PER_QUIZ):
        items = list(plan_attempt(quiz, Counter(), rng))
        decisions = []
        for vignette in quiz.vignettes:
            own = [i for i in items if i.vignette_id == vignette.id]
            if not own or not vignette.branching:
                continue
            page = min(i.page for i in own) + len(vignette.segment(0)) - 1
            index = vignette.segment(0)[-1]
            while vignette.stages[index].decision is not None:
                choice = rng.choice(vignette.stages[index].decision.choices)
                decisions.append((vignette.id, vignette.stages[index].id, choice.next, page))
                following = vignette.segment(vignette.stage_index(choice.next))
                first_position = max(i.position for i in items if i.vignette_id == vignette.id) + 1
                items += plan_stages(vignette, following, page + 1, first_position, rng)
                page += len(following)
                index = following[-1]
        plans.append(_Plan(tuple(items), tuple(decisions)))
    return plans


class _Seeder:
    def __init__(self, conn: sa.Connection, catalog: Catalog, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.catalog = catalog
        self.module = catalog.module
        self.now = now
        self.writer = _Writer(conn)
        self.tables = {
            m.__tablename__: m.__table__
            for m in (User, Group, GroupMember, LessonRead, Assignment, Attempt, AttemptItem, AttemptDecision)
        } | {m.__tablename__: m.__table__ for m in (Certificate, AuditEvent)}
        self.ids = _Ids(conn, list(self.tables.values()))
        self.plans = {quiz.id: _plans(quiz, self.rng) for quiz in catalog.quizzes}
        self.formative = [q for q in catalog.quizzes if q.kind is QuizKind.FORMATIVE]
        self.batch: dict[str, list[dict]] = {}

    # --- rows -------------------------------------------------------------------------------------

    def add(self, table: str, row: dict) -> int:
        row_id = self.ids.take(self.tables[table])
        self.batch.setdefault(table, []).append({"id": row_id, **row})
        return row_id

    def flush(self) -> None:
        order = (
            "users",
            "groups",
            "group_members",
            "lesson_reads",
            "assignments",
            "attempts",
            "attempt_items",
            "attempt_decisions",
            "certificates",
            "audit_events",
        )
        for name in order:
            self.writer.write(self.tables[name], self.batch.pop(name, []))

    def user(self, email: str, name: str, role: str, created: datetime, password_hash: str, **extra) -> int:
        return self.add(
            "users",
            {
                "email": email,
                "display_name": name,
                "password_hash": password_hash,
                "role": role,
                "active": True,
                "must_change_password": False,
                "created_at": created,
                "register_name": extra.get("register_name"),
                "register_number": extra.get("register_number"),
                "register_consent_at": extra.get("register_consent_at"),
                "email_verified_at": created,
                "totp_secret": None,
                "totp_enabled_at": None,
                "totp_last_step": None,
                "reminders_enabled": True,
                "trainer_digest_enabled": True,
            },
        )

    def audit(self, at: datetime, actor: int | None, action: str, subject_type: str, subject: int | None, **details):
        self.add(
            "audit_events",
            {
                "at": at,
                "actor_id": actor,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject,
                "details": details,
            },
        )

    def attempt(
        self,
        uid: int,
        quiz: Quiz,
        mode: str,
        number: int,
        at: datetime,
        *,
        ability: float,
        must_pass: bool = False,
        mistakes: list[str] | None = None,
    ) -> tuple[bool | None, list[str]]:
        """A finished attempt with graded answers; returns (passed, question ids not fully right).
        A practice attempt goes over `mistakes`, as the app's practice round does."""
        if mode == "practice":
            return self._practice(uid, quiz, number, at, ability, mistakes or [])
        plan = self.rng.choice(self.plans[quiz.id])
        if must_pass:
            ability = max(ability, 0.97)
        for _ in range(20):  # a pass that must be one is drawn again until the app would grade it so
            responses = [_response(quiz.question(item.question_id), ability, self.rng) for item in plan.items]
            results = [grade(quiz.question(i.question_id), r) for i, r in zip(plan.items, responses, strict=True)]
            percent = math.floor(1000 * sum(r.score for r in results) / len(results)) / 10
            mark = quiz.policy.pass_mark_percent
            passed = None if mark is None else percent >= mark
            if not must_pass or passed:
                break
        else:
            responses = [key_of(quiz.question(item.question_id)) for item in plan.items]
            results = [grade(quiz.question(i.question_id), r) for i, r in zip(plan.items, responses, strict=True)]
            percent, passed = 100.0, True
        self._write_attempt(uid, quiz, mode, number, at, plan.items, responses, results, percent, passed)
        attempt_id = self.ids.next["attempts"] - 1
        for vignette_id, stage_id, choice, page in plan.decisions:
            self.add(
                "attempt_decisions",
                {
                    "attempt_id": attempt_id,
                    "vignette_id": vignette_id,
                    "stage_id": stage_id,
                    "choice": choice,
                    "page": page,
                    "decided_at": at - timedelta(minutes=5),
                },
            )
        wrong = [i.question_id for i, r in zip(plan.items, results, strict=True) if not r.correct]
        return passed, wrong

    def _practice(
        self, uid: int, quiz: Quiz, number: int, at: datetime, ability: float, mistakes: list[str]
    ) -> tuple[None, list[str]]:
        """Practising mistakes: one page over those questions, never passed or failed."""
        questions = [quiz.question(qid) for qid in dict.fromkeys(mistakes)]
        items = [PlannedItem(q.id, 0, _case_of(quiz, q.id), display_order(q, self.rng)) for q in questions]
        responses = [_response(q, ability, self.rng) for q in questions]
        results = [grade(q, r) for q, r in zip(questions, responses, strict=True)]
        percent = math.floor(1000 * sum(r.score for r in results) / len(results)) / 10
        self._write_attempt(uid, quiz, "practice", number, at, items, responses, results, percent, None)
        return None, []

    def _write_attempt(self, uid, quiz, mode, number, at, items, responses, results, percent, passed) -> None:
        attempt_id = self.add(
            "attempts",
            {
                "user_id": uid,
                "quiz_id": quiz.id,
                "mode": mode,
                "number": number,
                "status": "finished",
                "page": max(i.page for i in items),
                "revision": 1 + max(i.page for i in items),
                "content_version": self.module.content_version,
                "started_at": at - timedelta(minutes=self.rng.randint(8, 40)),
                "finished_at": at,
                "points": sum(r.score for r in results),
                "max_points": len(items),
                "percent": percent,
                "passed": passed,
            },
        )
        for position, (item, response, result) in enumerate(zip(items, responses, results, strict=True), start=1):
            self.add(
                "attempt_items",
                {
                    "attempt_id": attempt_id,
                    "position": item.position or position,
                    "page": item.page,
                    "question_id": item.question_id,
                    "vignette_id": item.vignette_id,
                    "option_order": list(item.option_order),
                    "response": response,
                    "score": result.score,
                    "correct": result.correct,
                    "flagged": False,
                },
            )
        self.audit(at, uid, "attempt.finish", "attempt", attempt_id, user_id=uid, quiz_id=quiz.id, mode=mode)

    def open_attempt(self, uid: int, quiz: Quiz, number: int, at: datetime) -> None:
        """Busy with a graded test: some answers saved, nothing scored yet."""
        plan = self.rng.choice(self.plans[quiz.id])
        attempt_id = self.add(
            "attempts",
            {
                "user_id": uid,
                "quiz_id": quiz.id,
                "mode": "graded",
                "number": number,
                "status": "in_progress",
                "page": 0,
                "revision": 1,
                "content_version": self.module.content_version,
                "started_at": at,
                "finished_at": None,
                "points": None,
                "max_points": None,
                "percent": None,
                "passed": None,
            },
        )
        saved = self.rng.randint(0, sum(1 for i in plan.items if i.page == 0))
        for position, item in enumerate(plan.items, start=1):
            if item.page > 0:
                continue  # later stages of a case are shown (and inserted) page by page
            answered = position <= saved
            self.add(
                "attempt_items",
                {
                    "attempt_id": attempt_id,
                    "position": item.position or position,
                    "page": item.page,
                    "question_id": item.question_id,
                    "vignette_id": item.vignette_id,
                    "option_order": list(item.option_order),
                    "response": _response(quiz.question(item.question_id), 0.7, self.rng) if answered else None,
                    "score": None,
                    "correct": None,
                    "flagged": answered and self.rng.random() < 0.1,
                },
            )

    def certificate(self, uid: int, name: str, register: tuple, completed: datetime, sequence: int, **state) -> int:
        accreditation = self.module.accreditation
        issuer = self.module.issuer
        completed_on = completed.date()
        validity = self.module.certificate_validity_months
        return self.add(
            "certificates",
            {
                "user_id": uid,
                "module_id": self.module.id,
                "sequence": sequence,
                "verification_code": "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32)),
                "learner_name": name,
                "register_name": register[0],
                "register_number": register[1],
                "module_title": self.module.title,
                "content_version": self.module.content_version,
                "study_load": self.module.study_load,
                "accreditation_body": accreditation.body if accreditation else None,
                "accreditation_points": accreditation.points if accreditation else None,
                "accreditation_activity_id": accreditation.activity_id if accreditation else None,
                "completed_on": completed_on,
                "issued_at": state.get("issued_at", completed),
                "valid_until": add_months(completed_on, validity) if validity else None,
                "issuer_institute": issuer.institute if issuer else None,
                "issuer_signatory": issuer.signatory if issuer else None,
                "issuer_signatory_role": issuer.signatory_role if issuer else None,
                "status": state.get("status", "valid"),
                "revoked_at": state.get("revoked_at"),
                "revoked_reason": state.get("revoked_reason"),
                "revoked_by_id": state.get("revoked_by_id"),
                "superseded_at": state.get("superseded_at"),
            },
        )

    # --- a learner's history ----------------------------------------------------------------------

    def learner(self, index: int, group_id: int, trainer_id: int, admin_id: int, sample: bool) -> tuple[int, str]:
        rng = self.rng
        first, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        name = f"{first} {surname}"
        email = f"{_ascii(first)}.{_ascii(surname)}.{index}@bench.example"
        completer = sample or rng.random() < 0.28
        expired = completer and not sample and rng.random() < 0.06
        # Days since joining: long enough ago for an expired certificate (validity 36 months).
        days = rng.randint(1_150, 1_500) if expired else rng.randint(20, 700)
        joined = self.now - timedelta(days=days, minutes=rng.randint(0, 1439))
        consent = rng.random() < 0.4 or sample
        register = ("SKJ", f"{rng.randint(100000000, 999999999)}") if consent else (None, None)
        uid = self.user(
            email,
            name,
            "learner",
            joined,
            self.password_hash if sample else UNUSABLE_PASSWORD,
            register_name=register[0],
            register_number=register[1],
            register_consent_at=joined if consent else None,
        )
        self.add("group_members", {"group_id": group_id, "user_id": uid, "joined_at": joined})

        def moment(fraction: float) -> datetime:
            """A time between joining and now (or, for an expired certificate, the first months)."""
            span = (timedelta(days=120) if expired else self.now - joined) * fraction
            return joined + span

        lessons = len(self.catalog.lessons) if completer else rng.choice([0, 0, 1, 2, 3, 4, 5, 6])
        for number, lesson in enumerate(self.catalog.lessons[:lessons], start=1):
            read_at = moment(0.05 * number)
            self.add(
                "lesson_reads",
                {
                    "user_id": uid,
                    "lesson_id": lesson.id,
                    "content_version": self.module.content_version,
                    "read_at": read_at,
                },
            )
        ability = rng.uniform(0.45, 0.95)
        numbers: Counter = Counter()

        def take(quiz: Quiz, mode: str, at: datetime, **how) -> tuple[bool | None, list[str]]:
            numbers[(quiz.id, mode)] += 1
            return self.attempt(uid, quiz, mode, numbers[(quiz.id, mode)], at, ability=ability, **how)

        if sample:
            for quiz in self.formative:
                for round_ in range(3):
                    take(quiz, "graded", moment(0.3 + 0.01 * round_))
        elif not completer and lessons and rng.random() < 0.03:
            take(self.formative[min(lessons, len(self.formative)) - 1], "graded", moment(0.35))
        passed_at = None
        for quiz_id in self.module.completion.quizzes_passed:
            quiz = self.catalog.quiz(quiz_id)
            if completer:
                tries = 3 if sample else (2 if rng.random() < 0.03 else 1)
                for attempt in range(1, tries + 1):
                    at = moment(0.6 + 0.05 * attempt + (0.02 if quiz.kind is QuizKind.VIGNETTE else 0))
                    _, wrong = take(quiz, "graded", at, must_pass=attempt == tries)
                    if sample or (wrong and rng.random() < 0.05):
                        take(quiz, "practice", at + timedelta(hours=1), mistakes=wrong or [quiz.all_questions[0].id])
                passed_at = max(passed_at or at, at)
            elif lessons == len(self.catalog.lessons) and rng.random() < 0.03:
                take(quiz, "graded", moment(0.7))
            elif lessons == len(self.catalog.lessons) and rng.random() < 0.06:
                numbers[(quiz.id, "graded")] += 1
                self.open_attempt(uid, quiz, numbers[(quiz.id, "graded")], moment(0.99))
        if completer:
            self.certify(uid, name, register, passed_at, admin_id, sample)
        if sample or rng.random() < 0.1:  # a deadline of their own: half of them already past
            due = (self.now + timedelta(days=rng.randint(-60, 60))).date()
            self.assignment(group_id, uid, due, trainer_id)
        return uid, email

    def certify(self, uid: int, name: str, register: tuple, completed: datetime, admin_id: int, sample: bool) -> None:
        cert_id = self.certificate(uid, name, register, completed, 1)
        self.audit(completed, None, "certificate.issue", "certificate", cert_id, user_id=uid)
        roll = self.rng.random()
        if sample or roll < 0.05:  # reissued with a corrected register number
            corrected = (register[0] or "SKJ", f"{self.rng.randint(100000000, 999999999)}")
            later = completed + (self.now - completed) * 0.5
            new_id = self.certificate(uid, name, corrected, completed, 2, issued_at=later)
            row = self.batch["certificates"][-2]
            row.update(status="superseded", superseded_at=later)
            self.audit(
                later,
                uid,
                "certificate.reissue",
                "certificate",
                cert_id,
                reason="registernummer",
                replacement_id=new_id,
                user_id=uid,
            )
        elif roll < 0.10:
            later = completed + (self.now - completed) * 0.5
            reason = "Toets onder toezicht van een ander gemaakt"
            row = self.batch["certificates"][-1]
            row.update(status="revoked", revoked_at=later, revoked_reason=reason, revoked_by_id=admin_id)
            self.audit(later, admin_id, "certificate.revoke", "certificate", cert_id, reason=reason, user_id=uid)

    def assignment(self, group_id: int, uid: int | None, due: date, trainer_id: int) -> None:
        at = self.now - timedelta(days=90)
        self.add(
            "assignments",
            {
                "group_id": group_id,
                "user_id": uid,
                "module_id": self.module.id,
                "due_on": due,
                "assigned_by_id": trainer_id,
                "created_at": at,
            },
        )
        about = {"learner_id": uid} if uid else {}
        self.audit(at, trainer_id, "assignment.set", "group", group_id, **about, due_on=due.isoformat())


def _case_of(quiz: Quiz, question_id: str) -> str | None:
    found = quiz.vignette_stage(question_id)
    return found[0].id if found else None


def _ascii(text: str) -> str:
    plain = text.lower().replace("ë", "e").replace("ş", "s").replace("ö", "o").replace("ü", "u")
    return "".join(c for c in plain if c.isalnum())


def _chunks(total: int, size: int) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(start + size, total))


def seed_at_size(
    engine: sa.Engine, catalog: Catalog, learners: int, seed: int = 7, *, now: datetime | None = None
) -> SeededInstitute:
    """Seed one trainer's group of `learners` learners with their history, an admin, in one transaction."""
    started, cpu_started = time.perf_counter(), time.process_time()
    now = now or utcnow()
    with engine.begin() as conn:
        seeder = _Seeder(conn, catalog, seed, now)
        seeder.password_hash = generate_password_hash(PASSWORD)
        tag = seeder.ids.next["users"]  # unique addresses when a database holds more than one institute
        made = now - timedelta(days=1_600)
        trainer_email, admin_email = f"trainer.{tag}@bench.example", f"beheerder.{tag}@bench.example"
        trainer_id = seeder.user(trainer_email, "Tineke Trainer", "trainer", made, seeder.password_hash)
        admin_id = seeder.user(admin_email, "Bart Beheerder", "admin", made, seeder.password_hash)
        group_id = seeder.add(
            "groups",
            {"name": f"Groep van {learners}", "trainer_id": trainer_id, "enrolment_code": None, "created_at": made},
        )
        seeder.audit(made, trainer_id, "group.create", "group", group_id)
        seeder.assignment(group_id, None, (now + timedelta(days=21)).date(), trainer_id)
        first_event = seeder.ids.next["audit_events"]
        sample_id, sample_email = 0, ""
        for chunk in _chunks(learners, CHUNK):
            for index in chunk:
                uid, email = seeder.learner(index, group_id, trainer_id, admin_id, sample=index == 0)
                if index == 0:
                    sample_id, sample_email = uid, email
            seeder.flush()
        seeder.flush()
        # Who each event is about, by the app's own set-based rule (course/audit.py), as record() writes it.
        audit.link_people(conn, since_id=first_event)
        links = AuditEventPerson.__table__
        seeder.writer.rows["audit_event_people"] = conn.scalar(
            sa.select(sa.func.count()).select_from(links).where(links.c.event_id >= first_event)
        )
        if conn.dialect.name == "postgresql":
            for table in seeder.tables.values():
                next_id = sa.select(sa.func.max(table.c.id)).scalar_subquery()
                conn.execute(sa.select(sa.func.setval(sa.func.pg_get_serial_sequence(table.name, "id"), next_id)))
        # The trainer dashboard's stored rows and counts, by the app's own set-based rebuild.
        progress.rebuild_group(conn, group_id, catalog, local_date(now))
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a load this size (statistics for the planner, the visibility
        # map for index-only scans), done now so that it does not run during the measurements.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    return SeededInstitute(
        trainer_id=trainer_id,
        admin_id=admin_id,
        group_id=group_id,
        sample_learner_id=sample_id,
        trainer_email=trainer_email,
        admin_email=admin_email,
        sample_learner_email=sample_email,
        search_name="Jansen",
        learners=learners,
        rows=dict(seeder.writer.rows),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
    )


def main() -> int:
    from bench.database import fresh_app
    from course.extensions import db

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, nargs="+", default=[1_000])
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for learners in args.learners:
        url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/seed.db"
        app = fresh_app(url)
        with app.app_context():
            seeded = seed_at_size(db.engine, app.extensions["catalog"], learners, args.seed)
            answers = seeded.rows.get("attempt_items", 0)
            print(
                f"{db.engine.dialect.name}: {learners} learners in {seeded.seconds:.1f} s ({seeded.cpu_seconds:.1f} s CPU); "
                f"{answers} answers ({answers / learners:.1f} per learner); rows {seeded.rows}"
            )
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

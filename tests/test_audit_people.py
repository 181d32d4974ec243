"""Audit events are found by the people they are about through audit_event_people (course/audit.py):
the same events as the rule over the JSON details found before, whichever way the events were written
(audit.record, a bulk insert with link_people, or the migration's backfill), and nothing left behind
by an erasure."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from course import audit, privacy
from course.extensions import db
from course.models import AuditEvent, AuditEventPerson, User
from course.timeutil import utcnow

# People of the mix below; ids that exist are not needed: an event may name any id.
ANNA, BRAM, CEES = 11, 12, 13
PEOPLE = (ANNA, BRAM, CEES, 0, 1, 99)

# (subject type, subject id, details): every way an event names a person or no one, with values both
# databases read alike under the old rule (an integer, a string of digits, null, absent).
NAMED: list[tuple[str, int | None, dict[str, Any]]] = [
    ("user", ANNA, {}),
    ("user", ANNA, {"reason": "rol gewijzigd", "old": "learner", "new": "trainer"}),
    ("user", None, {}),
    ("attempt", 501, {"user_id": ANNA, "quiz_id": "eindtoets", "percent": 40.0}),
    ("group", 7, {"learner_id": BRAM, "due_on": "2026-12-24"}),
    ("group", 7, {"due_on": "2026-12-24"}),
    ("group", 7, {"learner_id": None}),
    ("certificate", 88, {"user_id": None, "reason": "losgekoppeld"}),
    ("certificate", 88, {"user_id": ANNA, "learner_id": BRAM}),
    ("certificate", 89, {"user_id": CEES, "learner_id": CEES}),
    ("user", BRAM, {"user_id": BRAM}),
    ("user", BRAM, {"user_id": ANNA}),
    ("attempt", ANNA, {"quiz_id": "eindtoets"}),  # an attempt whose id happens to equal a person's
    ("group", ANNA, {}),
    ("user", CEES, {"learner_id": "13"}),
    ("attempt", 502, {"user_id": "12"}),
    ("attempt", 503, {"user_id": "0012"}),
    ("certificate", 90, {"user_ids": [ANNA], "userid": ANNA, "user": {"id": ANNA}}),
]
# Values the databases read differently under the old rule (SQLite's CAST made 12.5 into 12 and true
# into 1; PostgreSQL's CAST failed, for every export at once), or that cannot be an account id: no one.
ODD: list[tuple[str, int | None, dict[str, Any]]] = [
    ("attempt", 504, {"user_id": True}),
    ("attempt", 505, {"user_id": False, "learner_id": 12.5}),
    ("attempt", 506, {"user_id": 12.0}),
    ("attempt", 507, {"user_id": "abc", "learner_id": ""}),
    ("attempt", 508, {"user_id": [ANNA], "learner_id": {"id": ANNA}}),
    ("attempt", 509, {"user_id": " 12", "learner_id": "-12"}),
    ("attempt", 510, {"user_id": "12.0", "learner_id": "1e1"}),
    ("attempt", 511, {"user_id": 2**40, "learner_id": "99999999999"}),
    ("attempt", 512, {"user_id": "2147483648", "learner_id": 2**31}),
]


def old_about_user(user_id: int) -> sa.ColumnElement[bool]:
    """The rule before audit_event_people: the person's id read from every event's details."""
    return sa.or_(
        sa.and_(AuditEvent.subject_type == "user", AuditEvent.subject_id == user_id),
        *(AuditEvent.details[key].as_integer() == user_id for key in audit.USER_DETAIL_KEYS),
    )


def recorded(mix: list[tuple[str, int | None, dict[str, Any]]]) -> list[int]:
    ids = []
    for subject_type, subject_id, details in mix:
        event = audit.record(None, "test.mix", subject_type, subject_id, **details)
        db.session.flush()
        ids.append(event.id)
    db.session.commit()
    return ids


def inserted_in_bulk(mix: list[tuple[str, int | None, dict[str, Any]]]) -> list[int]:
    """Events written as the bench seeder writes them: rows, no audit.record."""
    rows = [{"action": "test.mix", "subject_type": t, "subject_id": s, "details": d} for t, s, d in mix]
    return list(db.session.scalars(sa.insert(AuditEvent).returning(AuditEvent.id, sort_by_parameter_order=True), rows))


def links_of(event_ids: list[int]) -> list[list[int]]:
    """Per event, in the given order: the people it is linked to."""
    rows = db.session.execute(
        sa.select(AuditEventPerson.event_id, AuditEventPerson.user_id).where(AuditEventPerson.event_id.in_(event_ids))
    ).all()
    return [sorted(uid for eid, uid in rows if eid == event_id) for event_id in event_ids]


def found(criterion: sa.ColumnElement[bool]) -> set[int]:
    return set(db.session.scalars(sa.select(AuditEvent.id).where(criterion)))


def test_a_recorded_event_is_linked_to_the_people_it_names(db):
    event_ids = recorded(NAMED)
    assert links_of(event_ids) == [
        [ANNA],
        [ANNA],
        [],
        [ANNA],
        [BRAM],
        [],
        [],
        [],
        [ANNA, BRAM],
        [CEES],
        [BRAM],
        [ANNA, BRAM],
        [],
        [],
        [CEES],
        [BRAM],
        [BRAM],
        [],
    ]


def test_about_user_finds_the_events_the_rule_over_the_details_found(db):
    recorded(NAMED)
    for person in PEOPLE:
        assert found(audit.about_user(person)) == found(old_about_user(person)), person
    assert len(found(audit.about_user(ANNA))) == 5


def test_values_that_are_no_account_id_link_no_one(db):
    event_ids = recorded(ODD)
    assert links_of(event_ids) == [[] for _ in ODD]
    assert [audit.people_of(t, s, d) for t, s, d in ODD] == [[] for _ in ODD]


def test_events_inserted_in_bulk_get_the_links_record_writes(db):
    by_record = links_of(recorded(NAMED + ODD))
    bulk_ids = inserted_in_bulk(NAMED + ODD)
    assert links_of(bulk_ids) == [[] for _ in bulk_ids]
    audit.link_people(db.session.connection(), since_id=min(bulk_ids))
    assert links_of(bulk_ids) == by_record
    # Linked events are passed over: a second run from the start writes nothing.
    audit.link_people(db.session.connection())
    assert links_of(bulk_ids) == by_record
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEventPerson)) == 2 * sum(map(len, by_record))


def test_the_migration_links_the_events_already_there_as_record_would(app):
    """Revision f5e6d7c8b023 on a database with events from before it (the app's own database, taken
    back one revision and brought up again, so that this runs on SQLite and PostgreSQL alike)."""
    mix = NAMED + ODD
    with app.app_context():
        downgrade(revision="f2e3d4c5b020")
        try:
            assert "audit_event_people" not in sa.inspect(db.engine).get_table_names()
            # audit_events as it is at that revision (the model may have moved on since).
            events = sa.Table(
                "audit_events",
                sa.MetaData(),
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("at", sa.DateTime(timezone=True)),
                sa.Column("action", sa.String),
                sa.Column("subject_type", sa.String),
                sa.Column("subject_id", sa.Integer),
                sa.Column("details", sa.JSON),
            )
            rows = [
                {"at": utcnow(), "action": "test.mix", "subject_type": t, "subject_id": s, "details": d}
                for t, s, d in mix
            ]
            with db.engine.begin() as conn:
                old_ids = list(
                    conn.scalars(sa.insert(events).returning(events.c.id, sort_by_parameter_order=True), rows)
                )
        finally:
            upgrade()
        assert links_of(old_ids) == links_of(recorded(mix))
        db.session.remove()


def test_the_export_reads_a_persons_links_through_the_index(db):
    recorded(NAMED)
    events = sa.select(AuditEvent.id).where(audit.about_user(ANNA)).order_by(AuditEvent.at, AuditEvent.id)
    sql = str(events.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        # A handful of rows: PostgreSQL would read them whole; the point is that the index can serve.
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {sql}")))
    else:
        plan = "\n".join(row[-1] for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_audit_event_people_user_id_event_id" in plan, plan
    db.session.rollback()


@pytest.fixture
def anna_and_bram(db, create_user) -> tuple[int, int]:
    anna = create_user(email="anna@example.org", name="Anna Cursist")
    bram = create_user(email="bram@example.org", name="Bram Anders")
    return anna.id, bram.id


def test_erasure_empties_the_same_events_and_leaves_no_link_to_them(db, anna_and_bram):
    anna, bram = anna_and_bram
    mix = [
        ("user", anna, {"reason": "eigen instelling"}),
        ("attempt", 601, {"user_id": anna, "reason": "storing"}),
        ("group", 7, {"learner_id": anna}),
        ("certificate", 88, {"user_id": anna, "learner_id": bram}),  # about both
        ("user", bram, {"user_id": anna}),  # about both
        ("user", bram, {"reason": "Bram zelf"}),
        ("attempt", 602, {"user_id": bram}),
        ("group", 7, {"due_on": "2026-12-24"}),
    ]
    event_ids = recorded(mix)
    before = {e.id: (e.subject_id, dict(e.details)) for e in db.session.scalars(sa.select(AuditEvent))}
    emptied = found(old_about_user(anna))
    assert emptied == set(event_ids[:5])

    privacy.erase_user(db.session.get(User, anna), actor=None)
    db.session.commit()

    after = {e.id: (e.subject_id, e.details) for e in db.session.scalars(sa.select(AuditEvent))}
    assert {eid for eid in event_ids if after[eid] != before[eid]} == emptied
    assert all(after[eid][1] == privacy.ERASED_DETAILS for eid in emptied)
    # The emptied events name no one now, by either rule: no link to them stays, Bram's neither.
    assert links_of(event_ids) == [[], [], [], [], [], [bram], [bram], []]
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEventPerson.user_id == anna)) == 0
    for person in (anna, bram):
        assert found(audit.about_user(person)) == found(old_about_user(person)), person


def test_the_digit_rule_holds_at_its_edges_in_bulk_as_in_record(db):
    """One digit names a person; more than ten digits never do, leading zeros or not."""
    edges = [
        ("attempt", 520, {"user_id": "7"}),
        ("attempt", 521, {"learner_id": "0000000012"}),
        ("attempt", 522, {"user_id": "00000000012"}),
        # The ends of an id column (INTEGER on PostgreSQL): still a person, one further is not (ODD above).
        ("attempt", 523, {"user_id": 2**31 - 1}),
        ("attempt", 524, {"learner_id": "2147483647"}),
        ("attempt", 525, {"user_id": -(2**31)}),
    ]
    expected = [[7], [12], [], [2**31 - 1], [2**31 - 1], [-(2**31)]]
    assert links_of(recorded(edges)) == expected
    bulk_ids = inserted_in_bulk(edges)
    audit.link_people(db.session.connection(), since_id=min(bulk_ids))
    assert links_of(bulk_ids) == expected


def test_recording_logs_the_action_actor_and_subject_but_nothing_of_the_details(db, caplog):
    with caplog.at_level("INFO", logger="course.audit"):
        audit.record(3, "attempt.reset", "attempt", 501, user_id=ANNA, reason="Storing tijdens de toets")
        audit.record(None, "account.erased", "user", BRAM)
    assert [r.getMessage() for r in caplog.records if r.name == "course.audit"] == [
        "Audit: attempt.reset door account 3 op attempt 501",
        "Audit: account.erased door account None op user 12",
    ]

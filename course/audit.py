"""Recording sensitive actions. The caller's transaction commits the record with the change.

An event about a person names them as its subject ("user", id) or, when its subject is something
else (an attempt, a certificate, a group), with their id under one of USER_DETAIL_KEYS in the details.
`record` writes a link (audit_event_people) for every person the event names, in the same transaction;
the data export and erasure (course/privacy.py) find a person's events by those links, through an index,
instead of reading the details of every event.

What counts as naming a person (`person_id`): an integer, or a string of decimal digits ("17"), within
the range of an id column. Absent, null and anything else (true, 17.5, "abc", a list) name no one. Rows
written in bulk, not through `record`, get their links from `link_people`: the same rule in SQL.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from course.extensions import db
from course.models import AuditEvent, AuditEventPerson

log = logging.getLogger(__name__)
USER_DETAIL_KEYS = ("user_id", "learner_id")
# The ids a link can hold: an INTEGER column on PostgreSQL (users.id is one too).
ID_RANGE = (-(2**31), 2**31 - 1)
_DIGITS = re.compile(r"[0-9]{1,10}")


def record(actor_id: int | None, action: str, subject_type: str, subject_id: int | None, **details: Any) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor_id, action=action, subject_type=subject_type, subject_id=subject_id, details=details
    )
    event.people = [AuditEventPerson(user_id=uid) for uid in people_of(subject_type, subject_id, details)]
    db.session.add(event)
    log.info("Audit: %s door account %s op %s %s", action, actor_id, subject_type, subject_id)
    return event


def person_id(value: Any) -> int | None:
    """The account id a value in an event names, if any (see module doc)."""
    if isinstance(value, bool):
        return None  # JSON true/false, not 1/0
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if ID_RANGE[0] <= number <= ID_RANGE[1] else None


def people_of(subject_type: str, subject_id: int | None, details: dict[str, Any]) -> list[int]:
    """The ids of the people an event is about, each once, in order."""
    found = [person_id(subject_id)] if subject_type == "user" else []
    found += [person_id(details.get(key)) for key in USER_DETAIL_KEYS]
    return sorted({uid for uid in found if uid is not None})


def about_user(user_id: int) -> sa.ColumnElement[bool]:
    """Events about this person (see module doc): found by their links, through the index on user_id."""
    return AuditEvent.id.in_(sa.select(AuditEventPerson.event_id).where(AuditEventPerson.user_id == user_id))


def unlink_events_about(user_id: int) -> None:
    """Remove every link of the events about this person, theirs and anyone else's: erasure has just
    emptied those events' details and subject, so they name no one any more (course/privacy.py)."""
    theirs = aliased(AuditEventPerson)
    db.session.execute(
        sa.delete(AuditEventPerson).where(
            AuditEventPerson.event_id.in_(sa.select(theirs.event_id).where(theirs.user_id == user_id))
        )
    )


def _detail_person(dialect: str, details: sa.ColumnElement, key: str) -> sa.ColumnElement[int | None]:
    """`person_id(details[key])` in SQL, by the database's own JSON functions."""
    if dialect == "postgresql":
        # A JSON number's text, or a string's contents; cast only once the pattern held (a CASE keeps that order).
        kind, text = sa.func.json_typeof(details[key]), details[key].as_string()
        return sa.case(
            (sa.and_(kind == "number", text.regexp_match("^-?[0-9]{1,10}$")), sa.cast(text, sa.BigInteger)),
            (sa.and_(kind == "string", text.regexp_match("^[0-9]{1,10}$")), sa.cast(text, sa.BigInteger)),
        )
    path = f'$."{key}"'
    kind, value = sa.func.json_type(details, path), sa.func.json_extract(details, path)
    digits = sa.and_(sa.func.length(value).between(1, 10), sa.not_(value.op("GLOB")("*[^0-9]*")))
    return sa.case((kind == "integer", value), (sa.and_(kind == "text", digits), sa.cast(value, sa.Integer)))


def link_people(connection: sa.Connection, since_id: int = 0) -> None:
    """Write the links of the events from `since_id` on that have none yet, in one statement, by the
    rule `record` follows: for audit events inserted in bulk (bench/seed_at_size.py)."""
    events, links = AuditEvent.__table__, AuditEventPerson.__table__
    dialect = connection.dialect.name
    arms = [
        sa.select(events.c.id.label("event_id"), events.c.subject_id.label("user_id")).where(
            events.c.subject_type == "user", events.c.subject_id.is_not(None), events.c.id >= since_id
        ),
        *(
            sa.select(
                events.c.id.label("event_id"), _detail_person(dialect, events.c.details, key).label("user_id")
            ).where(events.c.id >= since_id)
            for key in USER_DETAIL_KEYS
        ),
    ]
    found = sa.union(*arms).subquery("found")
    linked = links.alias("linked")
    connection.execute(
        sa.insert(links).from_select(
            ["event_id", "user_id"],
            sa.select(found.c.event_id, found.c.user_id).where(
                found.c.user_id.between(*ID_RANGE), ~sa.exists().where(linked.c.event_id == found.c.event_id)
            ),
        )
    )

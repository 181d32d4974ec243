"""What people read is Dutch local time and Dutch number formats; what is stored stays UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from course.extensions import db
from course.formatting import nl_count, nl_date, nl_datetime, nl_number, nl_percent, nl_plural, nl_time
from course.models import Attempt, Invitation, Role
from course.timeutil import as_utc
from tests.conftest import outbox_rows
from tests.helpers import invite, new_group, text
from tests.quiz_helpers import answer_fields, attempt_id_from, complete, load_attempt, post_attempt, start

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


# --- the formats -----------------------------------------------------------------------------------


def test_half_past_eleven_utc_is_already_the_next_day_in_the_netherlands():
    moment = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert nl_date(moment) == "2 dec 2026"
    assert nl_date(moment, "long") == "2 december 2026"
    assert nl_datetime(moment) == "2 dec 2026 00:30"
    assert nl_time(moment) == "00:30"


def test_a_naive_moment_from_sqlite_is_read_as_utc():
    assert nl_datetime(datetime(2026, 7, 1, 22, 15)) == "2 jul 2026 00:15"


def test_a_calendar_date_is_not_shifted():
    # Deadlines and completion dates are already Dutch calendar dates.
    assert nl_date(date(2026, 12, 31)) == "31 dec 2026"
    assert nl_date(date(2027, 1, 30), "long") == "30 januari 2027"


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        # Last Sunday of March 2026 (29th): at 01:00 UTC the clocks go from 02:00 to 03:00.
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29 mrt 2026 01:59"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29 mrt 2026 03:00"),
        # Last Sunday of October 2026 (25th): at 01:00 UTC the clocks go from 03:00 back to 02:00.
        (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), "25 okt 2026 02:59"),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "25 okt 2026 02:00"),
        # Summer and winter the same hour of the day in UTC: two hours ahead, then one.
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "1 jul 2026 14:00"),
        (datetime(2026, 1, 1, 12, 0, tzinfo=UTC), "1 jan 2026 13:00"),
    ],
)
def test_both_sides_of_a_daylight_saving_change(moment, shown):
    assert nl_datetime(moment) == shown


def test_seconds_only_where_asked():
    assert nl_datetime(datetime(2026, 12, 1, 9, 5, 7, tzinfo=UTC), seconds=True) == "1 dec 2026 10:05:07"


def test_numbers_and_percentages_use_a_decimal_comma():
    assert nl_percent(86.6) == "86,6%"
    assert nl_percent(100.0) == "100%"
    assert nl_percent(0) == "0%"
    assert nl_percent(49.75, 0) == "50%"
    assert nl_number(0.85, 2) == "0,85"
    assert nl_number(1.0, 2) == "1,00"
    assert nl_number(12.5) == "12,5"
    assert nl_number(1234) == "1.234"
    assert nl_number(None, 2) == nl_percent(None) == nl_datetime(None) == nl_date(None) == "–"


@pytest.mark.parametrize(("count", "shown"), [(0, "0 cursisten"), (1, "1 cursist"), (2, "2 cursisten")])
def test_counts_take_the_singular_only_for_one(count, shown):
    assert nl_count(count, "cursist", "cursisten") == shown


@pytest.mark.parametrize(("count", "verb"), [(0, "zijn"), (1, "is"), (2, "zijn")])
def test_words_that_agree_with_a_count(count, verb):
    assert nl_plural(count, "is", "zijn") == verb


# --- on the pages ---------------------------------------------------------------------------------


def test_an_attempt_finished_at_half_past_eleven_utc_shows_the_next_day_and_stays_utc(app, client, login_as):
    login_as(Role.LEARNER)
    attempt_id = attempt_id_from(start(client, "eindtoets"))
    complete(app, client, attempt_id)
    moment = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    with app.app_context():
        db.session.execute(sa.update(Attempt).values(started_at=moment, finished_at=moment))
        db.session.commit()

    page = text(client.get("/toetsen/eindtoets"))
    assert "1 nov 2026 00:30" in page
    assert "31-10-2026" not in page and "23:30" not in page
    with app.app_context():
        stored = db.session.scalar(sa.select(Attempt.finished_at))
    assert as_utc(stored) == moment  # stored as it was: UTC


def test_the_result_page_and_flash_show_a_percentage_with_a_comma(app, client, login_as):
    login_as(Role.LEARNER)
    attempt_id = attempt_id_from(start(client, "eindtoets"))
    _, items = load_attempt(app, attempt_id)
    # One question wrong: a share with decimals (e.g. 14 of 15 is 93,3%).
    finished = complete(app, client, attempt_id, right={items[0].question_id: False})
    page = text(client.get(finished.headers["Location"]))
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        percent, max_points = attempt.percent, attempt.max_points
    assert percent != int(percent)
    assert f"({nl_percent(percent)})" in page and "," in nl_percent(percent)
    assert f"van {max_points} punten" in page
    assert not re.search(r"\d\.\d+%", page)


# --- no raw times anywhere ---------------------------------------------------------------------------

_RAW_TIME = [
    (re.compile(r"\.strftime\("), "strftime in a template: use nl_date / local_datetime"),
    (re.compile(r"\.isoformat\("), "isoformat in a template: use nl_date / local_datetime"),
    (re.compile(r"\bUTC\b"), "a UTC label: people read Dutch local time"),
    # A date or moment printed as it is (Python's str(): "2026-12-01 23:30:00+00:00").
    (re.compile(r"\{\{\s*[\w.]+_(?:at|on|until)\s*\}\}"), "a date printed without nl_date / local_datetime"),
    (re.compile(r"'%[.\d]*[fg]'\s*%"), "a number printed with a decimal point: use nl_number / nl_percent"),
]


def test_no_template_prints_a_raw_datetime_a_utc_label_or_a_decimal_point():
    problems = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in {".html", ".txt"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern, why in _RAW_TIME:
                if pattern.search(line):
                    problems.append(f"{path.relative_to(TEMPLATES)}:{number}: {why}")
    assert problems == []


def test_no_flash_or_refusal_names_utc():
    source = Path(__file__).resolve().parent.parent / "course"
    offenders = [
        f"{path.relative_to(source)}:{number}"
        for path in sorted(source.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        # "(UTC)" inside a string, or a date/time put into a message with strftime codes (%d-%m, %H:%M).
        if re.search(r"[\"'][^\"']*\(UTC\)", line) or re.search(r"\{[\w.]+:%[dH]|strftime\(\"%[dH]", line)
    ]
    assert offenders == []


def test_the_unanswered_warning_counts_in_dutch(app, client, login_as):
    login_as(Role.LEARNER)
    attempt_id = attempt_id_from(start(client, "kennischeck-kenmerken-ouder"))
    fields = answer_fields(app, attempt_id, right=True)
    positions = sorted({key.split("-")[0] for key in fields})
    for left_open, said in (
        (1, "1 vraag niet beantwoord. Onderaan staat welke;"),
        (2, "2 vragen niet beantwoord. Onderaan staat welke;"),
    ):
        kept = {k: v for k, v in fields.items() if k.split("-")[0] not in positions[:left_open]}
        response = post_attempt(client, attempt_id, "finish", kept)
        assert f"Je hebt nog {said}" in text(client.get(response.headers["Location"]))


def test_the_autosave_reports_the_dutch_clock_time(app, client, login_as, monkeypatch):
    login_as(Role.LEARNER)
    attempt_id = attempt_id_from(start(client, "kennischeck-kenmerken-ouder"))
    monkeypatch.setattr("course.quizzes.views.utcnow", lambda: datetime(2026, 12, 1, 23, 30, 5, tzinfo=UTC))
    fields = answer_fields(app, attempt_id, right=True)
    response = post_attempt(client, attempt_id, "save", fields, headers={"X-Requested-With": "fetch"})
    assert response.get_json()["saved_at"] == "00:30:05"


def test_the_invitation_mail_says_until_when_in_dutch_local_time(app, person):
    trainer = person(Role.TRAINER, "Tineke Trainer")
    invite(trainer, new_group(trainer), "nieuw@example.org")
    [row] = outbox_rows(app, "nieuw@example.org")
    with app.app_context():
        expires = as_utc(db.session.scalar(sa.select(Invitation.token_expires_at)))
    local = expires.astimezone(ZoneInfo("Europe/Amsterdam"))
    months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
              "oktober", "november", "december"]  # fmt: skip
    said = f"tot {local.day} {months[local.month - 1]} {local.year} {local:%H:%M} uur (Nederlandse tijd)"
    assert said in row.body_text
    assert "dagen" in row.body_text and "UTC" not in row.body_text

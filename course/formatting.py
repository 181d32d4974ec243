"""How dates, times, numbers and counts read on screen and in mail: Dutch, via Babel, in Dutch local time.

Stored times stay aware UTC (see course.timeutil); only what people read is converted here. The same
functions are Jinja filters (registered in create_app) and plain functions for flash messages.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

from course.timeutil import LOCAL_TIME, as_utc

LOCALE = "nl_NL"


def _local(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(LOCAL_TIME)


def nl_date(value: date | datetime | None, length: str = "medium") -> str:
    """A calendar date, e.g. "1 dec 2026" (medium) or "1 december 2026" (long).

    A datetime is a UTC moment and reads as its date in the Netherlands (23:30 UTC is already tomorrow
    there); a plain date (deadline, completion date) is already a Dutch calendar date.
    """
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = _local(value).date()
    return _dutch_date(value, length)


@lru_cache(maxsize=4096)
def _dutch_date(day: date, length: str) -> str:
    # A page names the same few hundred days many times (the dashboard: deadlines, last activity, the
    # chart's table); Babel takes about 0.1 ms a date, the cache a fraction of that.
    return format_date(day, length, locale=LOCALE)


def nl_datetime(moment: datetime | None, seconds: bool = False) -> str:
    """A UTC moment as Dutch local date and time, e.g. "1 dec 2026 16:05"."""
    if moment is None:
        return "–"
    local = _local(moment)
    clock = format_time(local, "HH:mm:ss" if seconds else "HH:mm", locale=LOCALE)
    return f"{format_date(local.date(), 'medium', locale=LOCALE)} {clock}"


def nl_time(moment: datetime | None, seconds: bool = False) -> str:
    """Only the Dutch local clock time of a UTC moment, e.g. "16:05" (or "16:05:09")."""
    if moment is None:
        return "–"
    return format_datetime(as_utc(moment), "HH:mm:ss" if seconds else "HH:mm", tzinfo=LOCAL_TIME, locale=LOCALE)


def nl_number(value: float | int | None, decimals: int | None = None) -> str:
    """A number with a decimal comma: fixed `decimals` places ("0,85"), or as few as needed ("12,5")."""
    if value is None:
        return "–"
    if decimals is None:
        pattern = "#,##0.###"
    else:
        pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return format_decimal(value, pattern, locale=LOCALE)


def nl_percent(value: float | int | None, decimals: int = 1) -> str:
    """A percentage given as 0–100, with a comma and at most `decimals` places: "86,6%", "100%"."""
    if value is None:
        return "–"
    pattern = "#,##0." + "#" * decimals if decimals else "#,##0"
    return format_decimal(value, pattern, locale=LOCALE) + "%"


# Dutch has two plural forms (one / other); words whose plural is not regular are spelled out per use.
def nl_count(count: int, singular: str, plural: str) -> str:
    """The count with the right noun: "0 cursisten", "1 cursist", "2 cursisten"."""
    return f"{format_decimal(count, '#,##0', locale=LOCALE)} {singular if count == 1 else plural}"


def nl_plural(count: int, singular: str, plural: str) -> str:
    """Only the noun (or verb) that goes with `count`: "is"/"zijn", "vraag"/"vragen"."""
    return singular if count == 1 else plural


FILTERS = {
    "nl_date": nl_date,
    "local_datetime": nl_datetime,
    "nl_time": nl_time,
    "nl_number": nl_number,
    "nl_percent": nl_percent,
    "nl_count": nl_count,
    "nl_plural": nl_plural,
}

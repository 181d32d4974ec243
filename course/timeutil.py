"""Time helpers: the app stores aware UTC datetimes everywhere and shows Dutch calendar dates."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# Deadlines, completion and certificate dates are Dutch calendar dates.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; treat them as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local_date(moment: datetime) -> date:
    """The Dutch calendar date at `moment` (between 22:00/23:00 and midnight UTC it is already tomorrow)."""
    return as_utc(moment).astimezone(LOCAL_TIME).date()


def duration_nl(seconds: int) -> str:
    """A whole number of hours or minutes in Dutch: "2 uur", "1 uur", "45 minuten", "1 minuut"."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} uur"
    minutes = max(1, seconds // 60)
    return f"{minutes} minu{'ut' if minutes == 1 else 'ten'}"

"""Page numbers and choices from the URL for the admin lists, read so that no value can fail a page.

Anything that is not a sensible page number or a known choice falls back to the default; a page
past the end shows the last page. The offset stays small enough for every database (no 10**30)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

PAGE_SIZE = 50
# More digits than any real page number; longer strings are not even converted.
_MAX_DIGITS = 9


def page_number(raw: str | None) -> int:
    """The requested page (1 when absent, not a whole number, zero or negative)."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= _MAX_DIGITS:
        return max(1, int(raw))
    return 1


def choice(raw: str | None, options: Collection[str], default: str) -> str:
    return raw if raw in options else default


def known(raw: str | None, options: Collection[str]) -> str:
    """A filter value from the URL, or "" (no filter) when it is not one of `options`."""
    return choice(raw, options, "")


@dataclass(frozen=True)
class Page:
    """One page of an offset-paged list: its number (clamped to the last page) and the total count."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @classmethod
    def of(cls, requested: int, total: int, size: int = PAGE_SIZE) -> Page:
        return cls(min(requested, max(1, -(-total // size))), total, size)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        """The number of the first row on this page (1-based), for "rij 51–100 van 1.234"."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)

"""Page numbers and choices from the URL for the admin lists, read so that no value can fail a page.

Anything that is not a sensible page number or a known choice falls back to the default; a page
past the end shows the last page. The offset stays small enough for every database (no 10**30).
Counting stops at COUNT_LIMIT rows, so no page reads the whole table to say how long it is."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

import sqlalchemy as sa

from course.extensions import db

PAGE_SIZE = 50
# Counts stop here: "meer dan 10.000" (see docs/decisions.md, admin lists at size).
COUNT_LIMIT = 10_000


def choice(raw: str | None, options: Collection[str], default: str) -> str:
    return raw if raw in options else default


def known(raw: str | None, options: Collection[str]) -> str:
    """A filter value from the URL, or "" (no filter) when it is not one of `options`."""
    return choice(raw, options, "")


@dataclass(frozen=True)
class Page:
    """One page of an offset-paged list: its number, the rows counted (up to COUNT_LIMIT) and
    whether a next page exists. A page past the end of an exactly counted list is its last page."""

    number: int
    total: int
    more: bool = False  # more than COUNT_LIMIT rows match: `total` is a lower bound
    size: int = PAGE_SIZE
    shown: int = 0
    has_next: bool = False

    @classmethod
    def of(cls, requested: int, counted: int, size: int = PAGE_SIZE) -> Page:
        """`counted`: the matching rows as `counted_rows` gives them (at most COUNT_LIMIT + 1)."""
        more = counted > COUNT_LIMIT
        total = min(counted, COUNT_LIMIT)
        return cls(requested if more else min(requested, max(1, -(-total // size))), total, more, size)

    def with_rows(self, fetched: int) -> Page:
        """The page after fetching up to size + 1 rows: how many are shown, and whether more follow."""
        return replace(self, shown=min(fetched, self.size), has_next=fetched > self.size)

    @property
    def pages(self) -> int | None:
        """The number of pages, or None when the count stopped at COUNT_LIMIT."""
        return None if self.more else max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        """The number of the first row on this page (1-based), for "51–100 getoond"."""
        return self.offset + 1 if self.shown else 0

    @property
    def last(self) -> int:
        return self.offset + self.shown


def counted_rows(ids: sa.Select) -> int:
    """How many rows `ids` selects, counting no further than COUNT_LIMIT + 1: an exact count would
    read every matching row (100,000 accounts: 20 ms and growing), this reads at most 10,001."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.limit(COUNT_LIMIT + 1).subquery())) or 0

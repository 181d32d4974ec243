"""Offset paging for long lists: which page to show, read defensively from the URL.

A page number in the URL is untrusted: "abc", 0, -1 or 10**30 fall back to a page that exists, so
a list never answers with a 500 or asks the database for an unbounded offset. The page size is
the view's, never the URL's."""

from __future__ import annotations

from dataclasses import dataclass

# A page number longer than this is nonsense; reading it as an int is still cheap, but stop there.
_MAX_DIGITS = 9


def requested_page(raw: str | None) -> int:
    """The page number asked for (1 when missing or not a plain positive number); clamp it with `Paging`."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_DIGITS:
        return 1
    return max(1, int(raw))


@dataclass(frozen=True)
class Paging:
    """Page `page` of `pages` over `total` items, `per_page` at a time (always at least one page)."""

    page: int
    pages: int
    total: int
    per_page: int

    @classmethod
    def of(cls, requested: int, total: int, per_page: int) -> Paging:
        pages = max(1, -(-total // per_page))
        return cls(page=min(max(1, requested), pages), pages=pages, total=total, per_page=per_page)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

"""Verification codes: 160 random bits from the OS CSPRNG, written in groups of four.

Codes use the base32 alphabet (A-Z, 2-7): no 0, 1 or 8, but both I and L. A typed code is forgiven
the usual look-alikes: 0 is read as O, and 1, I and L (any case) are treated as one letter when
looking a code up (`folded`), so "1" or a lower-case "l" for a printed "I" still finds the certificate.
"""

from __future__ import annotations

import base64
import re
import secrets

import sqlalchemy as sa

CODE_BYTES = 20  # 160 bits; at least 128 are required
_VALID = re.compile(r"^[A-Z2-7]{32}$")
_TYPED = str.maketrans({"0": "O", "1": "I"})


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")


def normalize(text: str) -> str | None:
    """A typed or scanned code in code alphabet (0 read as O, 1 as I), or None when it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper().translate(_TYPED)
    return cleaned if _VALID.match(cleaned) else None


def folded(code: str) -> str:
    """The code with I and L made one letter: equal for a code and its look-alike typing."""
    return code.replace("L", "I")


def folded_column(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """`folded` in SQL (REPLACE exists in SQLite and PostgreSQL alike)."""
    return sa.func.replace(column, "L", "I")


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))

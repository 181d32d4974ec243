"""Verification codes: 160 random bits from the OS CSPRNG, written in groups of four."""

from __future__ import annotations

import base64
import re
import secrets

CODE_BYTES = 20  # 160 bits; at least 128 are required
_VALID = re.compile(r"^[A-Z2-7]{32}$")


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")


def normalize(text: str) -> str | None:
    """The stored form of a typed or scanned code, or None when it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", text or "").upper()
    return cleaned if _VALID.match(cleaned) else None


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))

"""Single-use link tokens: the link carries the token, the database only its hash."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """(token for the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    # 256 random bits need no slow hash: nobody can guess their way back from the hash.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class TokenInvalid(Exception):
    """No such token, or it was already used."""


class TokenExpired(Exception):
    pass

"""Keyed hashes that stand in for e-mail and IP addresses wherever requests are counted.

The same input always gives the same key, so counts add up across workers and restarts, but
without SECRET_KEY a stored key cannot be turned back into the address it stands for."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def keyed_hash(kind: str, value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def client_pseudonym(kind: str, remote_addr: str | None) -> str:
    return keyed_hash(kind, remote_addr or "unknown")

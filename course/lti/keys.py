"""The tool's own RSA signing keys, kept as files (mode 0600) in LTI_KEY_DIR, never in the database.

Each key is `<created, unix seconds>-<kid>.pem`. The newest signs; a key replaced less than
LTI_KEY_OVERLAP_HOURS ago stays in the public JWKS (platforms cache it), older ones are removed by
the next rotation.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from jwcrypto.jwk import JWK


class NoToolKey(Exception):
    """No key yet: `flask course lti-keys rotate` makes the first one."""


@dataclass(frozen=True)
class ToolKey:
    kid: str
    created: int
    path: Path

    def private_pem(self) -> str:
        return self.path.read_text(encoding="ascii")

    def public_jwk(self) -> dict:
        jwk = json.loads(JWK.from_pem(self.private_pem().encode("ascii")).export_public())
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_pem(self) -> str:
        return JWK.from_pem(self.private_pem().encode("ascii")).export_to_pem().decode("ascii")


def _folder() -> Path:
    return Path(current_app.config["LTI_KEY_DIR"])


def all_keys() -> list[ToolKey]:
    """Every key on disk, newest first."""
    folder = _folder()
    if not folder.is_dir():
        return []
    keys = []
    for path in folder.glob("*.pem"):
        created, _, kid = path.stem.partition("-")
        if created.isdigit() and kid:
            keys.append(ToolKey(kid=kid, created=int(created), path=path))
    return sorted(keys, key=lambda key: (key.created, key.kid), reverse=True)


def current() -> ToolKey:
    keys = all_keys()
    if not keys:
        raise NoToolKey
    return keys[0]


def published(now: float | None = None) -> list[ToolKey]:
    """The current key and those replaced within the overlap period."""
    now = time.time() if now is None else now
    overlap = current_app.config["LTI_KEY_OVERLAP_HOURS"] * 3600
    keys = all_keys()
    # A key is retired at the moment its successor was created.
    return [key for i, key in enumerate(keys) if i == 0 or now - keys[i - 1].created < overlap]


def jwks(now: float | None = None) -> dict:
    return {"keys": [key.public_jwk() for key in published(now)]}


def rotate(now: float | None = None) -> tuple[ToolKey, list[str]]:
    """Make a new current key; delete keys retired longer than the overlap. (new key, deleted kids)."""
    now = int(time.time() if now is None else now)
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = JWK.from_pem(pem).thumbprint()
    path = folder / f"{now}-{kid}.pem"
    # Created with 0600 from the start: never readable by others, not even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    keep = {key.kid for key in published(now)}
    removed = []
    for key in all_keys():
        if key.kid not in keep:
            key.path.unlink()
            removed.append(key.kid)
    return ToolKey(kid=kid, created=now, path=path), removed

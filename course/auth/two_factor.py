"""Two-step sign-in with an authenticator app (TOTP, RFC 6238) and single-use recovery codes.

Decisions (docs/decisions.md): required for admins, available to everyone; the secret is stored
encrypted (Fernet, key derived from SECRET_KEY), so a database dump alone does not yield codes;
every code is accepted once (the last used time step is kept and moved forward with a
conditional update, so two requests with the same code cannot both pass); recovery codes are
stored as keyed hashes and marked used with a conditional update too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from course import audit
from course.extensions import db
from course.models import Passkey, RecoveryCode, User
from course.pseudonyms import keyed_hash
from course.timeutil import utcnow

ISSUER = "Hechtwijzer"
RECOVERY_CODE_COUNT = 10
# No look-alikes: recovery codes are often copied from paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# One time step either side: phones whose clock is up to 30 seconds off still work.
_VALID_WINDOW = 1


def required_for(user: User) -> bool:
    roles = current_app.config["TWO_FACTOR_REQUIRED_ROLES"]
    return user.role.value in roles


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    key = hmac.new(secret, b"hechtwijzer:totp-secret-encryption", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no image request, no data: URL for the CSP to allow)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title="QR-code voor je app")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _secret_of(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        # SECRET_KEY changed: the stored secret can no longer be read. Recovery codes still work.
        return None


def clean_code(raw: str | None) -> str:
    return "".join((raw or "").split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - _VALID_WINDOW, current + _VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_is_valid_for_secret(secret: str, raw_code: str, now: datetime | None = None) -> bool:
    """For enrolment: does the app the user just set up produce this code?"""
    return _matching_step(secret, clean_code(raw_code), now or utcnow()) is not None


def verify(user: User, raw_code: str, now: datetime | None = None) -> bool:
    """True once for a current code of `user`'s app, or for one of their unused recovery codes."""
    now = now or utcnow()
    code = clean_code(raw_code)
    secret = _secret_of(user)
    step = _matching_step(secret, code, now) if secret else None
    if step is not None:
        claimed = db.session.execute(
            sa.update(User)
            .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
        )
        return bool(claimed.rowcount)
    return _use_recovery_code(user, code, now)


def _recovery_hash(user_id: int, code: str) -> str:
    return keyed_hash("recovery-code", f"{user_id}:{code}")


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    if not (len(code) == 10 and all(c in _RECOVERY_ALPHABET for c in code)):
        return False
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(user.id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if used.rowcount:
        audit.record(user.id, "2fa.recovery_code_used", "user", user.id, remaining=remaining_recovery_codes(user))
        return True
    return False


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def new_recovery_codes(user: User) -> list[str]:
    """Replace all of `user`'s recovery codes; the plain codes are returned to be shown once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, code)) for code in codes)
    return codes


def display_recovery_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def enable(user: User, secret: str, now: datetime | None = None) -> list[str]:
    """Switch two-step sign-in on with a secret the user has proven to have; returns recovery codes."""
    store_secret(user, secret, now or utcnow())
    audit.record(user.id, "2fa.enable", "user", user.id)
    return new_recovery_codes(user)


def store_secret(user: User, secret: str, now: datetime) -> None:
    user.totp_secret = _fernet().encrypt(secret.encode()).decode()
    user.totp_enabled_at = now
    user.totp_last_step = pyotp.TOTP(secret).timecode(now)  # the code used to confirm is spent


def disable(user: User, actor: User | None) -> None:
    """Switch it off: by the user, by an admin for someone who lost app and codes, or (actor None)
    by the server operator's command for the last admin."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(Passkey).where(Passkey.user_id == user.id))
    if actor is None:
        audit.record(None, "2fa.reset_by_operator", "user", user.id)
    else:
        audit.record(actor.id, "2fa.disable" if actor.id == user.id else "2fa.reset_by_admin", "user", user.id)


def may_switch_off(user: User) -> bool:
    """Roles that must use it (admins) keep it on; others may switch it off again."""
    return not required_for(user)

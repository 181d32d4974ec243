"""Passkeys and security keys (WebAuthn) as a second sign-in step, beside the authenticator app.

The protocol is the `webauthn` library's; this module holds the decisions: which relying party
(the configured public address, never a Host header when one is configured), a challenge that
lives in the signed session for five minutes and is used once, only the person's own credentials
for the second step, and a sign counter that may only go up (a cloned key shows as a refusal)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, request, session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from course import audit
from course.extensions import db
from course.models import Passkey, User
from course.timeutil import utcnow

MAX_PASSKEYS = 10
_CHALLENGE_SECONDS = 5 * 60
_MAX_CREDENTIAL_JSON = 20_000


class PasskeyRefused(Exception):
    """The browser's answer did not verify; the message is for the person."""


def relying_party() -> tuple[str, str]:
    """(RP ID, origin): from PUBLIC_BASE_URL when set, else from the request (local use)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    parts = urlsplit(base)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def of_user(user: User) -> list[Passkey]:
    return list(db.session.scalars(sa.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)))


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in of_user(user)]


def _remember_challenge(purpose: str, challenge: bytes, user: User) -> None:
    session[f"webauthn_{purpose}"] = {
        "challenge": bytes_to_base64url(challenge),
        "user_id": user.id,
        "at": utcnow().timestamp(),
    }


def _take_challenge(purpose: str, user: User) -> bytes:
    """The challenge issued for `purpose` to `user`, removed from the session (single use)."""
    state = session.pop(f"webauthn_{purpose}", None)
    if (
        not isinstance(state, dict)
        or state.get("user_id") != user.id
        or not isinstance(state.get("at"), int | float)
        or utcnow().timestamp() - state["at"] > _CHALLENGE_SECONDS
        or not isinstance(state.get("challenge"), str)
    ):
        raise PasskeyRefused("De aanvraag is verlopen. Probeer het opnieuw.")
    return base64url_to_bytes(state["challenge"])


def registration_options(user: User) -> dict:
    """Options for navigator.credentials.create() (JSON-ready; render with |tojson, which escapes
    markup in the person's name); the challenge is kept in the session."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name="Hechtwijzer",
        user_name=user.email,
        user_id=f"hechtwijzer-{user.id}".encode(),
        user_display_name=user.display_name,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    _remember_challenge("registration", options.challenge, user)
    return json.loads(options_to_json(options))


def _checked_json(raw: str | None) -> str:
    if not raw or len(raw) > _MAX_CREDENTIAL_JSON:
        raise PasskeyRefused("Er kwam geen geldig antwoord van je passkey. Probeer het opnieuw.")
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("id"), str):
        raise PasskeyRefused("Er kwam geen geldig antwoord van je passkey. Probeer het opnieuw.")
    return raw


def register(user: User, credential_json: str | None, name: str) -> Passkey:
    """Verify the browser's answer to registration_options() and store the credential."""
    challenge = _take_challenge("registration", user)
    raw = _checked_json(credential_json)
    if len(of_user(user)) >= MAX_PASSKEYS:
        raise PasskeyRefused(f"Je kunt hoogstens {MAX_PASSKEYS} passkeys registreren. Verwijder er eerst een.")
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=raw, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin
        )
    except WebAuthnException as exc:
        raise PasskeyRefused("Deze passkey kon niet worden gecontroleerd. Probeer het opnieuw.") from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(sa.select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise PasskeyRefused("Deze passkey is al geregistreerd.")
    passkey = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
    )
    db.session.add(passkey)
    db.session.flush()
    audit.record(user.id, "2fa.passkey_add", "user", user.id)
    return passkey


def authentication_options(user: User) -> dict | None:
    """Options for navigator.credentials.get() with only this person's passkeys; None without any."""
    allowed = _descriptors(user)
    if not allowed:
        return None
    rp_id, _origin = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id, allow_credentials=allowed, user_verification=UserVerificationRequirement.PREFERRED
    )
    _remember_challenge("authentication", options.challenge, user)
    return json.loads(options_to_json(options))


def authenticate(user: User, credential_json: str | None, now: datetime | None = None) -> bool:
    """True when the browser's answer is a valid, fresh signature by one of `user`'s passkeys."""
    try:
        challenge = _take_challenge("authentication", user)
        raw = _checked_json(credential_json)
    except PasskeyRefused:
        return False
    passkey = db.session.scalar(
        sa.select(Passkey).where(Passkey.user_id == user.id, Passkey.credential_id == json.loads(raw)["id"])
    )
    if passkey is None:
        return False
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=raw,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except WebAuthnException:
        return False
    # Conditional on the count we checked and on a challenge not used before: a replayed answer (with
    # a replayed session cookie that still holds its challenge) or two requests at once cannot both pass.
    challenge_hash = hashlib.sha256(challenge).hexdigest()
    moved = db.session.execute(
        sa.update(Passkey)
        .where(
            Passkey.id == passkey.id,
            Passkey.sign_count == passkey.sign_count,
            sa.or_(Passkey.last_challenge.is_(None), Passkey.last_challenge != challenge_hash),
        )
        .values(sign_count=verified.new_sign_count, last_used_at=now or utcnow(), last_challenge=challenge_hash)
    )
    return bool(moved.rowcount)


def remove(user: User, passkey_id: int) -> bool:
    removed = db.session.execute(sa.delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))
    if removed.rowcount:
        audit.record(user.id, "2fa.passkey_remove", "user", user.id)
        return True
    return False


def remove_all(user: User) -> None:
    db.session.execute(sa.delete(Passkey).where(Passkey.user_id == user.id))

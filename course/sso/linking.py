"""Which account an organisation identity signs in as. Flush only; views commit.

Decisions (docs/decisions.md): an identity is linked by issuer + subject (ExternalIdentity, source
"oidc"), never by e-mail address alone. A first sign-in creates a learner account from the claims,
unless an account already has the e-mail address: then the person proves that account's password once
(or links from their profile while signed in), and only then is the identity linked. Roles follow the
provider's role claim when one is configured, at every sign-in; otherwise they stay as the app has them."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from course import audit, names
from course.auth.accounts import find_user_by_email, normalize_email
from course.extensions import db
from course.models import ExternalIdentity, OidcProvider, Role, User
from course.sso.client import Identity
from course.sso.providers import values

log = logging.getLogger(__name__)
SOURCE = "oidc"


class NeedsPassword(Exception):
    """An account has this e-mail address but no link to this identity: its owner must prove the password."""

    def __init__(self, user: User) -> None:
        super().__init__(user.id)
        self.user = user


class CannotCreate(Exception):
    """The claims hold no usable e-mail address or name: no account can be made from them."""


class LinkedElsewhere(Exception):
    """This organisation identity already signs in as another account."""


def linked_user(identity: Identity) -> User | None:
    return db.session.scalar(
        sa.select(User)
        .join(ExternalIdentity, ExternalIdentity.user_id == User.id)
        .where(
            ExternalIdentity.source == SOURCE,
            ExternalIdentity.issuer == identity.issuer,
            ExternalIdentity.subject == identity.subject,
        )
    )


def mapped_role(provider: OidcProvider, claims: dict[str, Any]) -> Role | None:
    """The role the provider's claim gives, or None when the provider maps no roles."""
    if not provider.role_claim:
        return None
    raw = claims.get(provider.role_claim)
    held = {raw} if isinstance(raw, str) else {str(v) for v in raw} if isinstance(raw, list) else set()
    if held & values(provider.admin_values):
        return Role.ADMIN
    if held & values(provider.trainer_values):
        return Role.TRAINER
    return Role.LEARNER


def claimed_email(claims: dict[str, Any]) -> str | None:
    raw = claims.get("email")
    if not isinstance(raw, str):
        return None
    try:
        return normalize_email(validate_email(raw, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def _display_name(claims: dict[str, Any], email: str) -> str:
    raw = claims.get("name")
    if not isinstance(raw, str) or not raw.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        raw = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    try:
        return names.clean(raw or email.split("@", 1)[0])
    except names.InvalidName as error:
        raise CannotCreate("naam") from error


def _link(user: User, provider: OidcProvider, identity: Identity, now: datetime) -> None:
    db.session.add(
        ExternalIdentity(
            user_id=user.id,
            source=SOURCE,
            issuer=identity.issuer,
            subject=identity.subject,
            created_at=now,
            last_used_at=now,
        )
    )
    db.session.flush()
    audit.record(user.id, "oidc.linked", "user", user.id, provider_id=provider.id)


def apply_role(user: User, provider: OidcProvider, identity: Identity) -> None:
    role = mapped_role(provider, identity.claims)
    if role is not None and role != user.role:
        audit.record(None, "oidc.role_from_claim", "user", user.id, old=user.role.value, new=role.value)
        user.role = role


def sign_in(provider: OidcProvider, identity: Identity, now: datetime) -> tuple[User, bool]:
    """The account for this identity: the linked one, or a new one. Returns (user, created).
    Raises NeedsPassword (an unlinked account has the address) or CannotCreate."""
    user = linked_user(identity)
    if user is not None:
        db.session.execute(
            sa.update(ExternalIdentity)
            .where(
                ExternalIdentity.source == SOURCE,
                ExternalIdentity.issuer == identity.issuer,
                ExternalIdentity.subject == identity.subject,
            )
            .values(last_used_at=now)
        )
        apply_role(user, provider, identity)
        verified = identity.claims.get("email_verified") is True
        if user.email_verified_at is None and verified and claimed_email(identity.claims) == user.email:
            user.email_verified_at = now
        return user, False
    email = claimed_email(identity.claims)
    if email is None:
        raise CannotCreate("email")
    existing = find_user_by_email(email)
    if existing is not None:
        raise NeedsPassword(existing)
    user = User(
        email=email,
        display_name=_display_name(identity.claims, email),
        role=mapped_role(provider, identity.claims) or Role.LEARNER,
        # Only the provider's word that it checked the address counts as a verified address.
        email_verified_at=now if identity.claims.get("email_verified") is True else None,
    )
    # A random password nobody knows: the account signs in through the organisation (or a reset link).
    user.set_password(secrets.token_urlsafe(32), method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    audit.record(None, "oidc.account_created", "user", user.id, provider_id=provider.id, role=user.role.value)
    _link(user, provider, identity, now)
    log.info("Account %s aangemaakt bij eerste inlog via organisatie %s", user.id, provider.id)
    return user, True


def link_existing(user: User, provider: OidcProvider, identity: Identity, now: datetime) -> None:
    """Link this identity to `user`, who proved to own the account (signed in, or their password).
    Raises LinkedElsewhere when it already signs in as someone else."""
    other = linked_user(identity)
    if other is not None:
        if other.id == user.id:
            return
        raise LinkedElsewhere
    _link(user, provider, identity, now)
    apply_role(user, provider, identity)


def links_of(user: User) -> list[ExternalIdentity]:
    return list(
        db.session.scalars(
            sa.select(ExternalIdentity)
            .where(ExternalIdentity.user_id == user.id, ExternalIdentity.source == SOURCE)
            .order_by(ExternalIdentity.id)
        ).all()
    )

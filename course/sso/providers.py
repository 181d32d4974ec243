"""Providers and password-free domains, as an admin configured them. Flush only; views commit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from course import audit
from course.extensions import db
from course.models import OidcProvider, PasswordlessDomain, User

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SlugInUse(Exception):
    pass


class DomainInUse(Exception):
    pass


def _fernet() -> Fernet:
    # Its own key, derived like the two-step secrets' key (course/auth/two_factor.py), with another label.
    secret = current_app.config["SECRET_KEY"].encode()
    key = hmac.new(secret, b"hechtwijzer:oidc-client-secret-encryption", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def env_secret_name(slug: str) -> str:
    return "OIDC_CLIENT_SECRET_" + slug.upper().replace("-", "_")


def client_secret(provider: OidcProvider) -> str | None:
    """The stored secret, else the one in the environment; None when neither can be read."""
    if provider.client_secret_encrypted:
        try:
            return _fernet().decrypt(provider.client_secret_encrypted.encode()).decode()
        except InvalidToken:  # SECRET_KEY changed: the admin enters the secret again
            return None
    return os.environ.get(env_secret_name(provider.slug)) or None


def enabled_providers() -> list[OidcProvider]:
    return list(
        db.session.scalars(sa.select(OidcProvider).where(OidcProvider.enabled).order_by(OidcProvider.name)).all()
    )


def by_slug(slug: str) -> OidcProvider | None:
    return db.session.scalar(sa.select(OidcProvider).where(OidcProvider.slug == slug))


def values(text: str) -> set[str]:
    return {part.strip() for part in (text or "").split(",") if part.strip()}


def save_provider(
    provider: OidcProvider | None,
    actor: User,
    *,
    slug: str,
    name: str,
    discovery_url: str,
    client_id: str,
    client_secret: str,
    role_claim: str,
    trainer_values: str,
    admin_values: str,
    enabled: bool,
) -> OidcProvider:
    """Create (provider None) or change a provider. An empty secret keeps the stored one (or, for a
    new provider, means: read it from the environment). Raises SlugInUse."""
    existing = by_slug(slug)
    if existing is not None and existing is not provider:
        raise SlugInUse(slug)
    created = provider is None
    if provider is None:
        provider = OidcProvider(slug=slug)
        db.session.add(provider)
    provider.slug = slug
    provider.name = name.strip()
    provider.discovery_url = discovery_url.strip()
    provider.client_id = client_id.strip()
    if client_secret:
        provider.client_secret_encrypted = _fernet().encrypt(client_secret.encode()).decode()
    provider.role_claim = role_claim.strip() or None
    provider.trainer_values = ",".join(sorted(values(trainer_values)))
    provider.admin_values = ",".join(sorted(values(admin_values)))
    provider.enabled = enabled
    db.session.flush()
    audit.record(
        actor.id, "oidc.provider_created" if created else "oidc.provider_changed", "oidc_provider", provider.id
    )
    return provider


def delete_provider(provider: OidcProvider, actor: User) -> None:
    """Its domains go with it (they may use passwords again); linked accounts keep their links."""
    audit.record(actor.id, "oidc.provider_deleted", "oidc_provider", provider.id, slug=provider.slug)
    db.session.execute(sa.delete(PasswordlessDomain).where(PasswordlessDomain.provider_id == provider.id))
    db.session.delete(provider)
    db.session.flush()


def normalize_domain(domain: str) -> str:
    return domain.strip().lower().lstrip("@")


def add_domain(provider: OidcProvider, domain: str, actor: User) -> PasswordlessDomain:
    domain = normalize_domain(domain)
    if db.session.scalar(sa.select(PasswordlessDomain).where(PasswordlessDomain.domain == domain)) is not None:
        raise DomainInUse(domain)
    row = PasswordlessDomain(domain=domain, provider_id=provider.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor.id, "oidc.domain_added", "oidc_provider", provider.id, domain=domain)
    return row


def remove_domain(row: PasswordlessDomain, actor: User) -> None:
    audit.record(actor.id, "oidc.domain_removed", "oidc_provider", row.provider_id, domain=row.domain)
    db.session.delete(row)
    db.session.flush()


def domains() -> list[PasswordlessDomain]:
    return list(db.session.scalars(sa.select(PasswordlessDomain).order_by(PasswordlessDomain.domain)).all())


def provider_for_address(email: str | None) -> OidcProvider | None:
    """The provider people with this address must use, when their domain has passwords switched off.
    Depends only on the domain, never on whether an account exists (no enumeration)."""
    if not email or "@" not in email:
        return None
    domain = normalize_domain(email.rsplit("@", 1)[1])
    return db.session.scalar(
        sa.select(OidcProvider)
        .join(PasswordlessDomain, PasswordlessDomain.provider_id == OidcProvider.id)
        .where(PasswordlessDomain.domain == domain)
    )

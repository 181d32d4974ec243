"""Registering and removing LTI platforms (operations: they flush and audit; the caller commits)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from course import audit
from course.extensions import db
from course.models import LtiPlatform

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class InvalidRegistration(ValueError):
    """A Dutch message naming the field that is wrong; nothing was saved."""


@dataclass(frozen=True)
class PlatformDetails:
    name: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_login_url: str
    auth_token_url: str
    key_set_url: str


def _check_url(label: str, value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    # https only: a platform's keys and tokens over plain http could be swapped on the way.
    # Loopback stays allowed for a platform on the same machine (tests, local trials).
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return value
    raise InvalidRegistration(f"{label}: vul een volledige https-URL in (bijvoorbeeld https://lms.example.nl/...).")


def clean(details: PlatformDetails) -> PlatformDetails:
    name, client_id = details.name.strip(), details.client_id.strip()
    if not name or len(name) > 120:
        raise InvalidRegistration("Naam: vul een naam in van hoogstens 120 tekens.")
    issuer = _check_url("Issuer (platform-ID)", details.issuer)
    if len(issuer) > 255:
        raise InvalidRegistration("Issuer (platform-ID): hoogstens 255 tekens.")
    if not client_id or len(client_id) > 255:
        raise InvalidRegistration("Client-ID: vul de client-ID in die het platform gaf (hoogstens 255 tekens).")
    deployments = sorted({d.strip() for d in details.deployment_ids if d.strip()})
    if not deployments or any(len(d) > 255 or any(c.isspace() for c in d) for d in deployments):
        raise InvalidRegistration("Deployment-ID's: vul minstens één deployment-ID in, één per regel, zonder spaties.")
    urls = [
        _check_url(label, value)
        for label, value in (
            ("Inlog-URL (authentication request URL)", details.auth_login_url),
            ("Token-URL (access token URL)", details.auth_token_url),
            ("Sleutelset-URL (public keyset URL)", details.key_set_url),
        )
    ]
    if any(len(url) > 500 for url in urls):
        raise InvalidRegistration("Een URL is langer dan 500 tekens.")
    return PlatformDetails(name, issuer, client_id, deployments, *urls)


def register(details: PlatformDetails, actor_id: int | None) -> LtiPlatform:
    """Add a platform. Raises InvalidRegistration (nothing saved)."""
    details = clean(details)
    exists = db.session.scalar(
        sa.select(LtiPlatform.id).where(
            LtiPlatform.issuer == details.issuer, LtiPlatform.client_id == details.client_id
        )
    )
    if exists is not None:
        raise InvalidRegistration("Dit platform (issuer en client-ID) is al geregistreerd.")
    platform = LtiPlatform(
        name=details.name,
        issuer=details.issuer,
        client_id=details.client_id,
        deployment_ids="\n".join(details.deployment_ids),
        auth_login_url=details.auth_login_url,
        auth_token_url=details.auth_token_url,
        key_set_url=details.key_set_url,
    )
    db.session.add(platform)
    db.session.flush()
    audit.record(actor_id, "lti_platform_registered", "lti_platform", platform.id, issuer=details.issuer)
    return platform


def remove(platform: LtiPlatform, actor_id: int | None) -> None:
    audit.record(actor_id, "lti_platform_removed", "lti_platform", platform.id, issuer=platform.issuer)
    db.session.delete(platform)
    db.session.flush()


def frame_origins() -> list[str]:
    """Origins of registered platforms: the only pages allowed to frame our LTI pages."""
    origins = set()
    for issuer, login_url in db.session.execute(sa.select(LtiPlatform.issuer, LtiPlatform.auth_login_url)):
        for url in (issuer, login_url):
            parts = urlsplit(url)
            if parts.scheme and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)

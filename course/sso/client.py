"""The OpenID Connect protocol, done by Authlib's Flask client: authorization code with PKCE (S256),
state and nonce kept in the signed session cookie, the id_token checked for signature (the provider's
JWKS), issuer, audience, expiry and nonce. Our code only turns Authlib's outcome into claims or a refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from authlib.integrations.flask_client.integration import FlaskIntegration
from flask import Response
from joserfc.errors import JoseError

from course.models import OidcProvider
from course.sso.providers import client_secret

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
SCOPES = "openid email profile"
# Clocks of provider and server may differ a little; an id_token is short-lived anyway.
LEEWAY_SECONDS = 30
TIMEOUT_SECONDS = 10
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


class SignInRefused(Exception):
    """The provider's answer is not accepted. `reason` goes to the audit log, `message` to the person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


UNAVAILABLE = "De inlogdienst van je organisatie is nu niet bereikbaar. Probeer het over een paar minuten opnieuw."
EXPIRED_OR_USED = (
    "Deze inlogpoging is verlopen of al gebruikt. Er is niets gewijzigd. Start het inloggen opnieuw vanaf de "
    "inlogpagina."
)
NOT_ACCEPTED = (
    "Het antwoord van de inlogdienst van je organisatie kon niet worden gecontroleerd. Er is niets gewijzigd. "
    "Probeer het opnieuw; lukt het niet, neem dan contact op met je beheerder."
)
CANCELLED = "Het inloggen bij je organisatie is afgebroken of geweigerd. Er is niets gewijzigd."


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    claims: dict[str, Any]


def _app(provider: OidcProvider) -> FlaskOAuth2App:
    # A fresh client per request: an admin's change to a provider counts from the next sign-in.
    return FlaskOAuth2App(
        FlaskIntegration(f"oidc-{provider.slug}"),
        name=f"oidc-{provider.slug}",
        client_id=provider.client_id,
        client_secret=client_secret(provider),
        server_metadata_url=provider.discovery_url,
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "default_timeout": TIMEOUT_SECONDS},
    )


def _expected_issuer(provider: OidcProvider, metadata: dict[str, Any]) -> str:
    """The issuer the discovery document names; it must be the address it was fetched from (OpenID
    Connect Discovery 1.0, section 4.3), so a document cannot speak for another issuer."""
    issuer = metadata.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise SignInRefused("discovery_zonder_issuer", NOT_ACCEPTED)
    base = provider.discovery_url.removesuffix(DISCOVERY_SUFFIX)
    if base != provider.discovery_url and issuer.rstrip("/") != base.rstrip("/"):
        raise SignInRefused("discovery_issuer_wijkt_af", NOT_ACCEPTED)
    return issuer


def start(provider: OidcProvider, redirect_uri: str) -> Response:
    """The redirect to the provider's login page (state, nonce and PKCE verifier saved in the session)."""
    app = _app(provider)
    try:
        _expected_issuer(provider, app.load_server_metadata())
        return app.authorize_redirect(redirect_uri)
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused("provider_onbereikbaar", UNAVAILABLE) from error


def finish(provider: OidcProvider) -> Identity:
    """The checked identity from the provider's callback, or SignInRefused. The state is used up
    whatever the outcome, so a callback URL works once."""
    app = _app(provider)
    try:
        issuer = _expected_issuer(provider, app.load_server_metadata())
        options = {
            "iss": {"essential": True, "values": [issuer]},
            "sub": {"essential": True},
            "aud": {"essential": True, "values": [provider.client_id]},
            "exp": {"essential": True},
        }
        token = app.authorize_access_token(claims_options=options, leeway=LEEWAY_SECONDS)
    except SignInRefused:
        raise
    except OAuthError as error:
        # The error code comes from the provider (or whoever wrote the callback URL): kept only when plain.
        code = error.error if isinstance(error.error, str) and _ERROR_CODE.match(error.error) else "onbekend"
        if code == "mismatching_state":
            raise SignInRefused("state_onbekend", EXPIRED_OR_USED) from error
        if code in {"access_denied", "login_required", "consent_required", "interaction_required"}:
            raise SignInRefused(f"provider_fout:{code}", CANCELLED) from error
        if code == "invalid_grant":
            raise SignInRefused("code_ongeldig", EXPIRED_OR_USED) from error
        raise SignInRefused(f"provider_fout:{code}", NOT_ACCEPTED) from error
    except JoseError as error:
        raise SignInRefused(f"id_token:{getattr(error, 'error', type(error).__name__)}", NOT_ACCEPTED) from error
    except requests.RequestException as error:
        raise SignInRefused("provider_onbereikbaar", UNAVAILABLE) from error
    except (ValueError, KeyError, TypeError) as error:
        raise SignInRefused("antwoord_onleesbaar", NOT_ACCEPTED) from error
    # Authlib checks an id_token only when there is one: without it there is no signed identity.
    userinfo = token.get("userinfo")
    if not token.get("id_token") or not userinfo:
        raise SignInRefused("geen_id_token", NOT_ACCEPTED)
    claims = dict(userinfo)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255 or len(issuer) > 255:
        raise SignInRefused("sub_ongeldig", NOT_ACCEPTED)
    claims.update(_userinfo(app, token, subject))
    return Identity(issuer=issuer, subject=subject, claims=claims)


def _userinfo(app: FlaskOAuth2App, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """Name, e-mail and groups from the userinfo endpoint, when the provider has one: many providers
    (oidc-provider, Keycloak with defaults) put only `sub` in the id_token. Its `sub` must match."""
    metadata = app.load_server_metadata()
    if not metadata.get("userinfo_endpoint"):
        return {}
    try:
        response = app.get(metadata["userinfo_endpoint"], token=token)
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError, OAuthError) as error:
        raise SignInRefused("userinfo_onbereikbaar", UNAVAILABLE) from error
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise SignInRefused("userinfo_sub_wijkt_af", NOT_ACCEPTED)
    return {key: value for key, value in info.items() if key not in {"sub", "iss", "aud", "nonce", "exp", "iat"}}

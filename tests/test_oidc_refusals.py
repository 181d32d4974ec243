"""Every refused or malformed answer from a provider: a clear Dutch 4xx page, an audit entry, nothing created.

The real provider (tests/test_oidc_sign_in.py) only signs good tokens; these come from a small hostile
provider served here over HTTP (discovery, JWKS, token endpoint), whose id_tokens each test chooses."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from course.models import AuditEvent, ExternalIdentity, LoginSession, Role, User
from tests.conftest import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OidcPeer, free_port
from tests.helpers import count, fetch, text

SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "sleutel-1"})
# Same key id, another key: a token signed with it does not verify against the published JWKS.
FORGED_KEY = RSAKey.generate_key(2048, parameters={"kid": "sleutel-1"})


class Hostile:
    """What the provider answers; a test changes it before the callback."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.discovery_issuer = issuer
        self.token_response: Callable[[], tuple[int, dict[str, Any]]] = lambda: (200, {})


def _handler(state: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": state.discovery_issuer,
                        "authorization_endpoint": f"{state.issuer}/auth",
                        "token_endpoint": f"{state.issuer}/token",
                        "jwks_uri": f"{state.issuer}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            elif self.path == "/jwks":
                self._json(200, KeySet([SIGNING_KEY]).as_dict(private=False))
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._json(*state.token_response())

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    port = free_port()
    state = Hostile(f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def provider(hostile: Hostile, add_oidc_provider) -> Hostile:
    hostile.discovery_issuer = hostile.issuer
    add_oidc_provider(
        OidcPeer(
            hostile.issuer, f"{hostile.issuer}/.well-known/openid-configuration", OIDC_CLIENT_ID, OIDC_CLIENT_SECRET
        )
    )
    return hostile


def start(client) -> dict[str, str]:
    response = client.get("/inloggen/organisatie/zorggroep")
    assert response.status_code == 302
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def id_token(claims: dict[str, Any], key: RSAKey = SIGNING_KEY, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def good_claims(provider: Hostile, nonce: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": provider.issuer,
        "sub": "medewerker-42",
        "aud": OIDC_CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "email": "medewerker@zorg.example",
        "email_verified": True,
        "name": "Mede Werker",
    }


def answer_with(provider: Hostile, token: dict[str, Any], status: int = 200) -> None:
    provider.token_response = lambda: (status, {"access_token": "at", "token_type": "Bearer", **token})


def nothing_created(app) -> bool:
    return (
        count(app, User, User.role != Role.ADMIN) == 0
        and count(app, ExternalIdentity) == 0
        and count(app, LoginSession, LoginSession.user_id.in_(sa.select(User.id).where(User.role != Role.ADMIN))) == 0
    )


def refused_reason(app) -> str:
    [event] = fetch(app, sa.select(AuditEvent).where(AuditEvent.action == "oidc.refused"))
    return event.details["reason"]


def test_a_good_token_from_this_provider_signs_in(app, client, provider):
    """The control for the refusals below: the same provider, a token without a flaw."""
    params = start(client)
    answer_with(provider, {"id_token": id_token(good_claims(provider, params["nonce"]))})

    response = client.get(f"/inloggen/organisatie/zorggroep/terug?code=c&state={params['state']}")

    assert response.status_code == 302 and response.headers["Location"] == "/"
    [identity] = fetch(app, sa.select(ExternalIdentity))
    assert (identity.issuer, identity.subject) == (provider.issuer, "medewerker-42")


BROKEN_CLAIMS = {
    "another issuer": ({"iss": "https://idp.elders.example"}, "id_token:invalid_claim"),
    "another audience": ({"aud": "een-andere-app"}, "id_token:invalid_claim"),
    "expired": ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "id_token:expired_token"),
    "wrong nonce": ({"nonce": "niet-de-onze"}, "id_token:invalid_claim"),
    "no nonce": ({"nonce": None}, "id_token:missing_claim"),
    "no subject": ({"sub": None}, "id_token:missing_claim"),
}


@pytest.mark.parametrize("flaw", sorted(BROKEN_CLAIMS))
def test_an_id_token_with_a_flaw_is_refused(app, client, provider, flaw):
    changes, reason = BROKEN_CLAIMS[flaw]
    params = start(client)
    claims = {k: v for k, v in {**good_claims(provider, params["nonce"]), **changes}.items() if v is not None}
    answer_with(provider, {"id_token": id_token(claims)})

    response = client.get(f"/inloggen/organisatie/zorggroep/terug?code=c&state={params['state']}")

    assert response.status_code == 400
    assert "kon niet worden gecontroleerd" in text(response)
    assert nothing_created(app)
    assert refused_reason(app) == reason


def test_an_id_token_not_signed_by_the_providers_key_is_refused(app, client, provider):
    params = start(client)
    answer_with(provider, {"id_token": id_token(good_claims(provider, params["nonce"]), key=FORGED_KEY)})

    response = client.get(f"/inloggen/organisatie/zorggroep/terug?code=c&state={params['state']}")

    assert response.status_code == 400
    assert nothing_created(app)
    assert refused_reason(app) == "id_token:bad_signature"


def test_a_token_response_without_id_token_is_refused(app, client, provider):
    params = start(client)
    answer_with(provider, {})

    response = client.get(f"/inloggen/organisatie/zorggroep/terug?code=c&state={params['state']}")

    assert response.status_code == 400
    assert nothing_created(app)
    assert refused_reason(app) == "geen_id_token"


def test_a_code_the_provider_no_longer_accepts_is_refused(app, client, provider):
    params = start(client)
    provider.token_response = lambda: (400, {"error": "invalid_grant"})

    response = client.get(f"/inloggen/organisatie/zorggroep/terug?code=al-gebruikt&state={params['state']}")

    assert response.status_code == 400
    assert "verlopen of al gebruikt" in text(response)
    assert nothing_created(app)
    assert refused_reason(app) == "code_ongeldig"


def test_a_provider_error_in_the_callback_is_refused(app, client, provider):
    params = start(client)

    response = client.get(
        f"/inloggen/organisatie/zorggroep/terug?error=server_error&error_description=stuk&state={params['state']}"
    )

    assert response.status_code == 400
    assert nothing_created(app)
    assert refused_reason(app) == "provider_fout:server_error"


def test_a_discovery_document_speaking_for_another_issuer_is_refused_before_login(app, client, provider):
    provider.discovery_issuer = "https://idp.elders.example"

    response = client.get("/inloggen/organisatie/zorggroep")

    assert response.status_code == 400
    assert nothing_created(app)
    assert refused_reason(app) == "discovery_issuer_wijkt_af"


def test_an_unreachable_provider_gets_a_clear_page(app, client, add_oidc_provider):
    closed = f"http://127.0.0.1:{free_port()}"
    add_oidc_provider(OidcPeer(closed, f"{closed}/.well-known/openid-configuration", "x", "y"))

    response = client.get("/inloggen/organisatie/zorggroep")

    assert response.status_code == 503
    assert "niet bereikbaar" in text(response)
    assert refused_reason(app) == "provider_onbereikbaar"


def test_a_provider_error_code_that_is_not_plain_is_not_written_to_the_audit_log(app, client, provider):
    params = start(client)

    response = client.get(f"/inloggen/organisatie/zorggroep/terug?error=%3Cscript%3E%20x&state={params['state']}")

    assert response.status_code == 400
    assert refused_reason(app) == "provider_fout:onbekend"

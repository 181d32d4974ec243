"""Admins configure organisation providers and e-mail domains without passwords; for such a domain,
password sign-in, reset and registration are refused with the same answer whether or not an account exists."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from course.models import AuditEvent, LoginFailure, OidcProvider, PasswordlessDomain, PendingRegistration, Role
from tests.conftest import PASSWORD, csrf_token, outbox_rows
from tests.helpers import count, fetch, text


def add_provider_form(client, **changes):
    data = {
        "csrf_token": csrf_token(client, "/beheer/organisaties/nieuw"),
        "name": "Zorggroep Noord",
        "slug": "zorggroep",
        "discovery_url": "https://login.zorggroep.example",
        "client_id": "hechtwijzer",
        "client_secret": "geheim-van-de-organisatie",
        "role_claim": "groups",
        "trainer_values": "trainers, opleiders",
        "admin_values": "",
        "enabled": "y",
    }
    return client.post("/beheer/organisaties/nieuw", data={**data, **changes})


def test_an_admin_adds_a_provider_whose_secret_is_stored_encrypted(app, client, login_as):
    login_as(Role.ADMIN)

    response = add_provider_form(client)

    assert response.status_code == 302
    [provider] = fetch(app, sa.select(OidcProvider))
    # the issuer is completed to its discovery URL
    assert provider.discovery_url == "https://login.zorggroep.example/.well-known/openid-configuration"
    assert provider.trainer_values == "opleiders,trainers"
    assert "geheim-van-de-organisatie" not in (provider.client_secret_encrypted or "")
    with app.app_context():
        from course.sso.providers import client_secret

        assert client_secret(provider) == "geheim-van-de-organisatie"
    page = text(client.get(response.headers["Location"]))
    assert "http://localhost/inloggen/organisatie/zorggroep/terug" in page  # the redirect URI to register
    assert "geheim-van-de-organisatie" not in page
    assert count(app, AuditEvent, AuditEvent.action == "oidc.provider_created") == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"discovery_url": "http://login.zorggroep.example"}, "Gebruik een https-adres"),
        ({"slug": "Zorg Groep"}, "Gebruik kleine letters"),
        ({"client_id": ""}, "Vul de client-ID in."),
    ],
)
def test_a_provider_with_bad_settings_is_refused_and_not_saved(app, client, login_as, changes, message):
    login_as(Role.ADMIN)
    response = add_provider_form(client, **changes)
    assert response.status_code == 400 and message in text(response)
    assert count(app, OidcProvider) == 0


def test_a_secret_left_empty_comes_from_the_environment(app, client, login_as, monkeypatch):
    login_as(Role.ADMIN)
    add_provider_form(client, client_secret="")
    monkeypatch.setenv("OIDC_CLIENT_SECRET_ZORGGROEP", "uit-de-omgeving")
    [provider] = fetch(app, sa.select(OidcProvider))
    assert provider.client_secret_encrypted is None
    with app.app_context():
        from course.sso.providers import client_secret

        assert client_secret(provider) == "uit-de-omgeving"


@pytest.fixture
def passwordless(app, client, login_as, auth) -> None:
    """zorggroep.example signs in only through Zorggroep Noord (set up by an admin, who then signs out)."""
    login_as(Role.ADMIN)
    add_provider_form(client)
    [provider] = fetch(app, sa.select(OidcProvider))
    token = csrf_token(client, f"/beheer/organisaties/{provider.id}")
    response = client.post(
        f"/beheer/organisaties/{provider.id}/domeinen", data={"csrf_token": token, "domain": "@ZorgGroep.example"}
    )
    assert response.status_code == 302
    auth.logout()


def test_an_admin_switches_passwords_off_for_a_domain(app, passwordless):
    [row] = fetch(app, sa.select(PasswordlessDomain))
    assert row.domain == "zorggroep.example"


def _organisation_only(response) -> str:
    assert response.status_code == 400
    page = text(response)
    assert "wachtwoorden hier uit" in page
    assert 'href="/inloggen/organisatie/zorggroep"' in page
    assert 'name="password"' not in page  # only the organisation's button
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page)


def test_password_sign_in_is_refused_alike_for_existing_and_unknown_accounts(app, client, passwordless, create_user):
    create_user(email="bestaand@zorggroep.example")
    token = csrf_token(client, "/inloggen")

    existing = client.post(
        "/inloggen", data={"csrf_token": token, "email": "bestaand@zorggroep.example", "password": PASSWORD}
    )
    unknown = client.post(
        "/inloggen", data={"csrf_token": token, "email": "niemand@zorggroep.example", "password": PASSWORD}
    )

    assert _organisation_only(existing) == _organisation_only(unknown)
    assert client.get("/account/profiel").status_code == 302  # not signed in, even with the right password
    assert count(app, LoginFailure) == 0


def test_a_password_reset_for_the_domain_is_refused_and_mails_nothing(app, client, passwordless, create_user):
    create_user(email="bestaand@zorggroep.example")
    token = csrf_token(client, "/wachtwoord-vergeten")
    before = len(outbox_rows(app))

    existing = client.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": "bestaand@zorggroep.example"})
    unknown = client.post("/wachtwoord-vergeten", data={"csrf_token": token, "email": "niemand@zorggroep.example"})

    assert _organisation_only(existing) == _organisation_only(unknown)
    assert len(outbox_rows(app)) == before


def test_registration_for_the_domain_is_refused(app, client, passwordless):
    token = csrf_token(client, "/registreren")
    response = client.post(
        "/registreren",
        data={
            "csrf_token": token,
            "display_name": "Nieuwe Collega",
            "email": "nieuw@zorggroep.example",
            "password": "een lang en sterk wachtwoord 42",
            "password_confirm": "een lang en sterk wachtwoord 42",
        },
    )
    _organisation_only(response)
    assert count(app, PendingRegistration) == 0
    assert outbox_rows(app, "nieuw@zorggroep.example") == []


def test_other_domains_still_sign_in_with_a_password(app, client, passwordless, auth, create_user):
    user = create_user(email="iemand@elders.example")
    assert auth.login(user.email).status_code == 302


def test_removing_the_domain_allows_passwords_again(app, client, passwordless, login_as, auth, create_user):
    login_as(Role.ADMIN)
    [row] = fetch(app, sa.select(PasswordlessDomain))
    token = csrf_token(client, f"/beheer/organisaties/{row.provider_id}")
    assert (
        client.post(f"/beheer/organisaties/domeinen/{row.id}/verwijderen", data={"csrf_token": token}).status_code
        == 302
    )
    auth.logout()
    user = create_user(email="bestaand@zorggroep.example")
    assert auth.login(user.email).status_code == 302

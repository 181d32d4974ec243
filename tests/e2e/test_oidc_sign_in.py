"""Signing in with the organisation's account in the browser, through the login page of an OpenID
Connect provider that is not ours (Node's oidc-provider, tests/oidc/provider.mjs); our pages axe clean."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, Route, expect

from course.models import ExternalIdentity, OidcProvider, Role, User
from tests.conftest import OidcPeer, oidc_provider_process
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import ConsoleErrors
from tests.helpers import fetch

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def peer(live_server: str) -> Iterator[OidcPeer]:
    with oidc_provider_process([f"{live_server}/inloggen/organisatie/zorggroep/terug"]) as running:
        yield running


def _no_web_fonts(route: Route) -> None:
    # The provider's development login page imports a web font; this machine has no internet.
    route.fulfill(status=200, content_type="text/css", body="")


def test_sign_in_through_the_organisations_login_page(
    page: Page, app: Flask, peer: OidcPeer, add_oidc_provider, console: ConsoleErrors
) -> None:
    add_oidc_provider(peer)
    page.route("https://fonts.googleapis.com/**", _no_web_fonts)

    page.goto("/inloggen")
    button = page.get_by_role("link", name="Inloggen met Zorggroep Noord")
    expect(button).to_be_visible()
    assert_axe_clean(page, "login page with an organisation")
    button.click()

    # The provider's own page, on its own origin.
    page.wait_for_url(f"{peer.issuer}/interaction/**")
    page.locator("input[name=login]").fill("anna")
    page.locator("input[name=password]").fill("wat-dan-ook")
    page.get_by_role("button", name="Sign-in").click()

    page.wait_for_url("**/")
    expect(page.get_by_role("contentinfo")).to_contain_text("Ingelogd als Anna Bakker")
    expect(page.get_by_role("main")).to_contain_text("Welkom! Je account is aangemaakt")
    assert_axe_clean(page, "overview after the first organisation sign-in")
    [user] = fetch(app, sa.select(User).where(User.email == "anna@zorg.example"))
    [identity] = fetch(app, sa.select(ExternalIdentity))
    assert (identity.user_id, identity.issuer, identity.subject) == (user.id, peer.issuer, "anna")


def test_a_domain_without_passwords_shows_only_the_organisation_button(
    page: Page, app: Flask, peer: OidcPeer, add_oidc_provider, console: ConsoleErrors
) -> None:
    provider_id = add_oidc_provider(peer)
    with app.app_context():
        from course.extensions import db
        from course.models import PasswordlessDomain

        db.session.add(PasswordlessDomain(domain="zorg.example", provider_id=provider_id))
        db.session.commit()
    console.allow_status(400)

    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill("anna@zorg.example")
    page.get_by_label("Wachtwoord", exact=True).fill("een wachtwoord")
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen via je organisatie")
    expect(page.get_by_role("link", name="Inloggen met Zorggroep Noord")).to_be_visible()
    expect(page.get_by_label("Wachtwoord", exact=True)).to_have_count(0)
    assert_axe_clean(page, "organisation only")


def test_an_admin_configures_the_organisation_and_its_domain(
    page: Page, app: Flask, peer: OidcPeer, create_user, submit_login, console: ConsoleErrors
) -> None:
    admin = create_user(Role.ADMIN, email="beheer@example.org")
    submit_login(page, admin.email)
    page.goto("/beheer/")
    page.get_by_role("link", name="Inloggen met organisatie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen met organisatie")
    assert_axe_clean(page, "organisations, none yet")
    page.get_by_role("link", name="Organisatie toevoegen").click()
    assert_axe_clean(page, "add an organisation")

    page.get_by_label("Naam op de inlogknop").fill("Zorggroep Noord")
    page.get_by_label("Korte naam in het adres").fill("zorggroep")
    page.get_by_label("Discovery-URL (of issuer)").fill(peer.issuer)
    page.get_by_label("Client-ID").fill(peer.client_id)
    page.get_by_label("Client-secret").fill(peer.client_secret)
    page.get_by_role("main").get_by_role("button", name="Opslaan").click()

    expect(page.get_by_role("main")).to_contain_text("/inloggen/organisatie/zorggroep/terug")
    page.get_by_label("E-maildomein zonder wachtwoorden").fill("zorg.example")
    page.get_by_role("button", name="Domein toevoegen").click()
    expect(page.get_by_role("button", name="Wachtwoorden weer toestaan voor zorg.example")).to_be_visible()
    assert_axe_clean(page, "an organisation with a domain without passwords")
    page.get_by_role("link", name="Terug naar alle organisaties").click()
    expect(page.get_by_role("table")).to_contain_text("zorg.example")
    assert_axe_clean(page, "organisations")
    [provider] = fetch(app, sa.select(OidcProvider))
    assert provider.discovery_url == peer.discovery_url

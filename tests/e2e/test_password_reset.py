"""A learner who forgot the password gets back in through the browser: "Wachtwoord vergeten?" on the
login page, the mailed link, a new password, signing in with it; every page axe clean. And an
unverified learner sends the verification link again from the dashboard and follows it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, link_in_mail
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import ConsoleErrors

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "paarse olifant danst graag"


def test_forgot_password_mail_reset_and_login(page: Page, app: Flask, create_user, console: ConsoleErrors) -> None:
    user = create_user(email="sanne@example.org", name="Sanne de Vries")
    page.goto("/inloggen")
    page.get_by_role("link", name="Wachtwoord vergeten?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wachtwoord vergeten")
    assert_axe_clean(page, "forgot password")

    # An empty form: a Dutch message, no mail.
    page.get_by_role("main").get_by_role("button", name="Stuur de link").click()
    expect(page.get_by_role("alert")).to_contain_text("Vul een geldig e-mailadres in.")
    assert_axe_clean(page, "forgot password, with an error")

    page.get_by_label("E-mailadres").fill("Sanne@Example.org")
    page.get_by_role("main").get_by_role("button", name="Stuur de link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer je e-mail")
    expect(page.get_by_role("main")).to_contain_text("sanne@example.org")
    assert_axe_clean(page, "reset mail sent")

    link = link_in_mail(app, user.email, "/wachtwoord-herstellen/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Nieuw wachtwoord kiezen")
    assert_axe_clean(page, "choose a new password")

    # The password rules apply here too.
    page.get_by_label("Nieuw wachtwoord", exact=True).fill("kort")
    page.get_by_label("Herhaal nieuw wachtwoord").fill("kort")
    page.get_by_role("main").get_by_role("button", name="Wachtwoord instellen").click()
    expect(page.get_by_role("alert")).to_contain_text("minstens 10 tekens")
    console.allow_status(400)
    assert_axe_clean(page, "choose a new password, refused")

    page.get_by_label("Nieuw wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Herhaal nieuw wachtwoord").fill(NEW_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Wachtwoord instellen").click()
    expect(page).to_have_url(re.compile(r"/inloggen$"))
    expect(page.locator(".flashes")).to_contain_text("Je nieuwe wachtwoord is ingesteld")
    assert_axe_clean(page, "login after reset")

    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Jouw voortgang")).to_be_visible()

    # The used link now explains itself and offers a new one.
    console.allow_status(404)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Link werkt niet")
    expect(page.get_by_role("link", name="Vraag een nieuwe link aan")).to_be_visible()
    assert_axe_clean(page, "used reset link")


def test_an_unverified_learner_sends_the_link_again_and_follows_it(page: Page, app: Flask, create_user) -> None:
    user = create_user(email="sanne@example.org", name="Sanne de Vries", verified=False)
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("main")).to_contain_text("Je e-mailadres is nog niet bevestigd.")
    assert_axe_clean(page, "dashboard, address not verified")

    page.get_by_role("button", name="Stuur de link opnieuw").click()
    expect(page.locator(".flashes")).to_contain_text("We hebben een nieuwe bevestigingslink gestuurd")
    page.goto(link_in_mail(app, user.email, "/e-mailadres/bevestigen/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("E-mailadres bevestigen")
    assert_axe_clean(page, "confirm address")
    page.get_by_role("main").get_by_role("button", name="E-mailadres bevestigen").click()
    expect(page.locator(".flashes")).to_contain_text("Je e-mailadres is bevestigd.")
    expect(page.get_by_role("main")).not_to_contain_text("nog niet bevestigd")

    page.goto("/account/e-mailadres")
    expect(page.get_by_role("heading", level=1)).to_have_text("E-mailadres wijzigen")
    assert_axe_clean(page, "change address")

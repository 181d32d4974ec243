"""A learner's way through the course, in a real browser."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD, link_in_mail
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import tab_to

pytestmark = pytest.mark.e2e


def at_path(path: str) -> re.Pattern[str]:
    """A URL with this path, with or without a fragment (a redirect keeps the skip link's #inhoud)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(#[^/]*)?$")


def arrive_at(page: Page, path: str) -> None:
    """Wait until the browser shows the page at `path`, fully loaded, before pressing more keys."""
    expect(page).to_have_url(at_path(path))
    page.wait_for_load_state()


def lesson_item(page: Page, link_name: str) -> Locator:
    """The overview's list item of one lesson."""
    return page.locator(".lesson-item").filter(has=page.get_by_role("link", name=link_name, exact=True))


def test_learner_registers_reads_a_lesson_and_marks_it_read(page: Page, app: Flask) -> None:
    lessons = app.extensions["catalog"].lessons
    first = lessons[0]
    first_link = f"{first.chapter}. {first.title}"

    page.goto("/")
    page.get_by_role("link", name="Account aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Account aanmaken")

    page.get_by_label("Naam (zoals op je certificaat)").fill("Sanne de Vries")
    page.get_by_label("E-mailadres").fill("sanne@example.org")
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Herhaal wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Account aanmaken").click()

    # Every registration is answered alike; the account waits for the link in the mail.
    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer je e-mail")
    expect(page.get_by_role("main")).to_contain_text("sanne@example.org")
    assert_axe_clean(page, "check your mail")
    page.goto(link_in_mail(app, "sanne@example.org", "/registreren/bevestigen/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Registratie afronden")
    assert_axe_clean(page, "confirm registration")
    page.get_by_role("main").get_by_role("button", name="Account aanmaken").click()

    expect(page).to_have_url(at_path("/"))
    expect(page.get_by_role("status")).to_contain_text("Je e-mailadres is bevestigd en je account is aangemaakt")
    expect(page.get_by_text(f"0 van de {len(lessons)}")).to_be_visible()
    expect(lesson_item(page, first_link).locator(".status")).to_have_text("Nog niet gelezen")

    page.get_by_role("link", name=first_link, exact=True).click()
    expect(page).to_have_url(at_path(f"/lessen/{first.id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first.chapter} {first.title}")

    page.get_by_role("button", name=f"Markeer les {first.chapter} als gelezen").click()
    expect(page.get_by_role("status")).to_have_text(f"Les {first.chapter} is gemarkeerd als gelezen.")

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Cursus").click()
    expect(page).to_have_url(at_path("/"))
    expect(lesson_item(page, first_link).locator(".status")).to_have_text("Gelezen")
    expect(page.get_by_text(f"1 van de {len(lessons)}")).to_be_visible()
    second = lessons[1]
    expect(lesson_item(page, f"{second.chapter}. {second.title}").locator(".status")).to_have_text("Nog niet gelezen")


def test_learner_marks_a_lesson_read_with_the_keyboard_only(page: Page, app: Flask, create_user) -> None:
    lessons = app.extensions["catalog"].lessons
    first = lessons[0]
    user = create_user()
    skip_link = page.get_by_role("link", name="Naar de inhoud")
    main = page.get_by_role("main")

    # Log in: the first Tab reaches the (now visible) skip link, which moves focus into <main>.
    page.goto("/inloggen")
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(main).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("E-mailadres")).to_be_focused()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Wachtwoord", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    arrive_at(page, "/")

    # The overview's URL kept the #inhoud fragment through the redirect, so Tab starts in <main>.
    tab_to(page, main.get_by_role("link", name=f"Begin met les {first.chapter}: {first.title}"))
    page.keyboard.press("Enter")
    arrive_at(page, f"/lessen/{first.id}")

    # In the lesson: skip the menu, then Tab through the text to the button and press it.
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(main).to_be_focused()
    tab_to(page, page.get_by_role("button", name=f"Markeer les {first.chapter} als gelezen"))
    page.keyboard.press("Enter")
    # Next comes the lesson's knowledge check (not yet done), not the next lesson.
    check = app.extensions["catalog"].quiz_for_lesson(first.id)
    arrive_at(page, f"/toetsen/{check.id}")
    expect(page.get_by_role("status")).to_have_text(f"Les {first.chapter} is gemarkeerd als gelezen.")

    # Back to the overview through the main menu.
    tab_to(page, page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Cursus"))
    page.keyboard.press("Enter")
    arrive_at(page, "/")
    expect(lesson_item(page, f"{first.chapter}. {first.title}").locator(".status")).to_have_text("Gelezen")
    expect(page.get_by_text(f"1 van de {len(lessons)}")).to_be_visible()

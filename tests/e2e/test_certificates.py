"""From the last step to a certificate, and its public verification and revocation, in a real browser.

Quizzes and earlier lessons are done through a Flask test client signed in as the same
learner (a different session, the same account); every step the test is about happens in
the browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from course.certificates import codes
from course.extensions import db
from course.models import Certificate, Role, User
from tests.conftest import PASSWORD, AuthActions, csrf_token
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import ConsoleErrors
from tests.quiz_helpers import attempt_id_from, complete, start

pytestmark = pytest.mark.e2e

REQUIRED_QUIZZES = ("eindtoets", "casustoets")


def at_path(path: str) -> re.Pattern[str]:
    """A URL with this path, with or without a fragment (a redirect keeps the skip link's #inhoud)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(#[^/]*)?$")


# --- state prepared through the test client --------------------------------------------


def client_for(app: Flask, user: User) -> FlaskClient:
    """A test client signed in as `user` (its own session, next to the browser's)."""
    client = app.test_client()
    assert AuthActions(client).login(user.email).status_code == 302
    return client


def read_lessons(app: Flask, client: FlaskClient, lesson_ids: list[str]) -> None:
    for lesson_id in lesson_ids:
        token = csrf_token(client, f"/lessen/{lesson_id}")
        assert client.post(f"/lessen/{lesson_id}/gelezen", data={"csrf_token": token}).status_code == 302


def pass_required_quizzes(app: Flask, client: FlaskClient) -> None:
    for quiz_id in REQUIRED_QUIZZES:
        response = complete(app, client, attempt_id_from(start(client, quiz_id)), right=True)
        assert response.status_code == 302


def certificates_of(app: Flask, user: User) -> list[Certificate]:
    with app.app_context():
        found = db.session.scalars(
            sa.select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
        ).all()
        db.session.expunge_all()
        return list(found)


def learner_with_certificate(app: Flask, create_user: Callable[..., User], name: str) -> tuple[User, Certificate]:
    learner = create_user(name=name)
    client = client_for(app, learner)
    read_lessons(app, client, [lesson.id for lesson in app.extensions["catalog"].lessons])
    pass_required_quizzes(app, client)
    (certificate,) = certificates_of(app, learner)
    return learner, certificate


# --- browser helpers -----------------------------------------------------------------------


def log_in_as(page: Page, user: User) -> None:
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(user.email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(at_path("/"))


def menu_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name=name, exact=True)


# --- tests -----------------------------------------------------------------------------------


def test_from_the_last_lesson_to_a_verified_certificate(
    page: Page, visitor: Page, app: Flask, create_user, tmp_path: Path
) -> None:
    catalog = app.extensions["catalog"]
    *earlier_lessons, last = catalog.lessons
    learner = create_user(name="Anna de Vries")
    client = client_for(app, learner)
    read_lessons(app, client, [lesson.id for lesson in earlier_lessons])
    pass_required_quizzes(app, client)
    assert certificates_of(app, learner) == []  # the last lesson is still to be read

    log_in_as(page, learner)

    # Profile: register and number, first without consent (error), then with it.
    menu_link(page, "Profiel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn profiel")
    assert_axe_clean(page, "profile")
    page.get_by_label("Beroepsregister").select_option("SKJ")
    page.get_by_label("Registratienummer", exact=True).fill("100012345")
    consent = page.get_by_role("checkbox", name=re.compile("^Ik geef toestemming"))
    page.get_by_role("main").get_by_role("button", name="Opslaan", exact=True).click()
    error = "Zonder toestemming slaan we je registratienummer niet op."
    expect(page.get_by_role("alert")).to_contain_text(error)
    expect(consent).to_have_attribute("aria-invalid", "true")
    expect(consent).to_have_accessible_description(error)
    expect(page.get_by_label("Beroepsregister")).to_have_value("SKJ")
    expect(page.get_by_label("Registratienummer", exact=True)).to_have_value("100012345")
    assert_axe_clean(page, "profile with a consent error")
    consent.check()
    page.get_by_role("main").get_by_role("button", name="Opslaan", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Je profiel is opgeslagen.")
    expect(consent).to_be_checked()
    expect(page.get_by_role("alert")).to_have_count(0)

    # The last lesson: marking it read completes the module.
    menu_link(page, "Cursus").click()
    page.get_by_role("link", name=f"Verder met les {last.chapter}: {last.title}").click()
    expect(page).to_have_url(at_path(f"/lessen/{last.id}"))
    page.get_by_role("button", name=f"Markeer les {last.chapter} als gelezen").click()
    expect(page).to_have_url(at_path("/"))
    flashes = page.get_by_role("status")
    expect(flashes).to_contain_text(f"Les {last.chapter} is gemarkeerd als gelezen.")
    expect(flashes).to_contain_text("Gefeliciteerd! Je hebt de module afgerond.")

    menu_link(page, "Cursus").click()
    expect(page.get_by_role("status")).to_have_count(0)  # the flash was shown once
    expect(page.get_by_text("Je hebt de module afgerond.")).to_be_visible()
    expect(page.get_by_role("link", name="Download je certificaat (pdf)")).to_be_visible()
    assert_axe_clean(page, "dashboard with a certificate")

    # My certificates: one valid certificate; its PDF holds name, register and code.
    menu_link(page, "Certificaten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn certificaten")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=catalog.module.title))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Geldig")
    assert_axe_clean(page, "my certificates")
    (certificate,) = certificates_of(app, learner)
    code = codes.display(certificate.verification_code)
    expect(row.get_by_role("link", name=code)).to_be_visible()
    with page.expect_download() as download_info:
        row.get_by_role("link", name=re.compile(r"^Download pdf")).click()
    download = download_info.value
    assert re.fullmatch(r"certificaat-\d{8}\.pdf", download.suggested_filename)
    pdf_file = tmp_path / download.suggested_filename
    download.save_as(pdf_file)
    text = pypdf.PdfReader(pdf_file).pages[0].extract_text()
    assert "Anna de Vries" in text
    assert "SKJ-registratienummer 100012345" in text
    assert code in text

    # Anyone can check it: a visitor without an account types the code.
    visitor.goto("/verifieren")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Certificaat controleren")
    expect(visitor.get_by_role("link", name="Inloggen", exact=True)).to_be_visible()  # not signed in
    assert_axe_clean(visitor, "verify form")
    visitor.get_by_label("Verificatiecode").fill(code.lower())
    visitor.get_by_role("button", name="Controleren").click()
    expect(visitor).to_have_url(at_path(f"/verifieren/{certificate.verification_code}"))
    result = visitor.get_by_role("status")
    expect(result.get_by_role("heading", level=2)).to_have_text("Geldig certificaat")
    expect(result).to_contain_text("Anna de Vries")
    expect(result).to_contain_text(catalog.module.title)
    expect(visitor.locator("body")).not_to_contain_text(learner.email)
    assert_axe_clean(visitor, "verify result: valid")


def test_a_revoked_certificate_shows_as_revoked_at_once(
    page: Page, visitor: Page, app: Flask, create_user, submit_login
) -> None:
    learner, certificate = learner_with_certificate(app, create_user, "Bram Kuipers")
    _, other = learner_with_certificate(app, create_user, "Carla Smit")
    admin = create_user(role=Role.ADMIN, name="Beheerder")

    visitor.goto(f"/verifieren/{certificate.verification_code}")
    expect(visitor.get_by_role("status").get_by_role("heading")).to_have_text("Geldig certificaat")

    submit_login(page, admin.email)
    expect(page).to_have_url(at_path("/beheer/"))
    menu_link(page, "Beheer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beheer")
    page.get_by_role("main").get_by_role("link", name="Certificaten", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificaten")
    page.get_by_label("Zoek op naam of verificatiecode").fill("kuipers")
    page.get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(re.compile(r"/beheer/certificaten$"))  # the term is posted, not in the URL
    expect(page.get_by_role("link", name="Bram Kuipers")).to_be_visible()
    expect(page.get_by_role("link", name="Carla Smit")).to_have_count(0)
    expect(page.get_by_text(codes.display(other.verification_code))).to_have_count(0)
    assert_axe_clean(page, "admin certificate list, searched")

    page.get_by_role("link", name="Bram Kuipers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificaat van Bram Kuipers")
    expect(page.get_by_text(codes.display(certificate.verification_code))).to_be_visible()
    assert_axe_clean(page, "admin certificate detail")

    reason = page.get_by_label("Reden van intrekking")
    revoke = page.get_by_role("button", name="Certificaat intrekken")
    revoke.click()
    expect(page.get_by_role("alert")).to_contain_text("Geef een reden op.")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description("Geef een reden op.")
    assert_axe_clean(page, "revoke form with an error")
    visitor.reload()
    expect(visitor.get_by_role("status").get_by_role("heading")).to_have_text("Geldig certificaat")

    reason.fill("Fraude bij de eindtoets vastgesteld")
    revoke.click()
    expect(page.get_by_role("status")).to_contain_text("Het certificaat is ingetrokken.")
    expect(page.get_by_text(re.compile(r"^Ingetrokken op .*: Fraude bij de eindtoets vastgesteld$"))).to_be_visible()
    expect(revoke).to_have_count(0)

    visitor.reload()
    result = visitor.get_by_role("status")
    expect(result.get_by_role("heading")).to_have_text("Ingetrokken certificaat")
    expect(result).to_contain_text("Dit certificaat is ingetrokken en is niet meer geldig.")
    expect(result).to_contain_text("Bram Kuipers")
    expect(visitor.locator("body")).not_to_contain_text(learner.email)
    expect(visitor.locator("body")).not_to_contain_text("Fraude")  # the reason is not public
    assert_axe_clean(visitor, "verify result: revoked")


def test_an_unknown_code_is_not_found(page: Page, console: ConsoleErrors) -> None:
    console.allow_status(404)  # the page answers 404 on purpose
    page.goto("/verifieren")
    page.get_by_label("Verificatiecode").fill(codes.display(codes.new_code()))
    with page.expect_response(re.compile(r"/verifieren/[A-Z2-7]{32}$")) as answer:
        page.get_by_role("button", name="Controleren").click()
    assert answer.value.status == 404
    expect(page.get_by_role("status").get_by_role("heading")).to_have_text("Niet gevonden")
    expect(page.get_by_label("Verificatiecode")).to_be_visible()  # try again right there
    assert_axe_clean(page, "verify result: not found")


def test_a_visitor_verifies_a_code_with_the_keyboard_only(page: Page, app: Flask, create_user) -> None:
    _, certificate = learner_with_certificate(app, create_user, "Dirk Jansen")
    skip_link = page.get_by_role("link", name="Naar de inhoud")

    page.goto("/verifieren")
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Verificatiecode")).to_be_focused()
    page.keyboard.type(codes.display(certificate.verification_code).lower())
    page.keyboard.press("Enter")

    expect(page).to_have_url(at_path(f"/verifieren/{certificate.verification_code}"))
    result = page.get_by_role("status")
    expect(result.get_by_role("heading")).to_have_text("Geldig certificaat")
    expect(result).to_contain_text("Dirk Jansen")

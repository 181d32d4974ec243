"""Trainers, admins and a learner's privacy rights, in a real browser."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from course.extensions import db
from course.formatting import nl_date
from course.models import Attempt, AttemptMode, GroupMember, Role, User
from course.seeding import seed_group
from course.timeutil import utcnow
from course.trainer import groups
from tests.conftest import PASSWORD
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import tab_to

pytestmark = pytest.mark.e2e


def at_path(path: str) -> re.Pattern[str]:
    """A URL with this path, with or without a query string or fragment."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}([?#].*)?$")


START_PAGES = {Role.LEARNER: "/", Role.TRAINER: "/trainer/", Role.ADMIN: "/beheer/"}


def sign_in(page: Page, email: str, password: str = PASSWORD, lands_on: str = "/") -> None:
    """Log in through the login form; the browser lands on the role's start page."""
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(at_path(lands_on))


def log_in_as(page: Page, create_user: Callable[..., User], role: Role, **kwargs: object) -> User:
    """Create a user with `role` and log the browser in as that user through the login form."""
    user = create_user(role=role, **kwargs)
    sign_in(page, user.email, lands_on=START_PAGES[role])
    return user


def main_menu(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Hoofdmenu")


def flash(page: Page) -> Locator:
    return page.locator(".flashes")


def assert_phone_friendly(page: Page, label: str) -> None:
    """At 375 CSS pixels: axe clean, and no sideways scrolling of the page (WCAG 1.4.10 reflow)."""
    assert page.viewport_size == {"width": 375, "height": 800}
    assert_axe_clean(page, f"{label} on a phone")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375, f"{label} scrolls sideways"


def csv_file(text: str) -> dict[str, object]:
    return {"name": "cursisten.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def upload_csv(page: Page, text: str) -> int:
    """Choose an in-memory CSV in the file input and upload it; the status of the report page."""
    page.get_by_label("CSV-bestand met een kolom ‘email’").set_input_files(csv_file(text))
    with page.expect_response(lambda r: r.url.endswith("/csv") and r.request.method == "POST") as response:
        page.get_by_role("button", name="CSV uploaden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CSV-import")
    return response.value.status


def test_a_trainer_sets_up_a_group_and_sees_where_it_stands(page: Page, app: Flask, console, create_user) -> None:
    lotte = create_user(name="Lotte Jansen", email="lotte@example.org")
    bram = create_user(name="Bram de Boer", email="bram@example.org")
    trainer = log_in_as(page, create_user, Role.TRAINER, name="Tineke Trainer")

    # No groups yet.
    main_menu(page).get_by_role("link", name="Mijn groepen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn groepen")
    expect(page.get_by_text("Je hebt nog geen groepen.")).to_be_visible()
    assert_axe_clean(page, "Mijn groepen, empty")

    page.get_by_label("Naam van de groep").fill("Pleegzorg Noord")
    page.get_by_role("button", name="Groep aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pleegzorg Noord")
    expect(flash(page)).to_contain_text("Groep ‘Pleegzorg Noord’ is aangemaakt.")
    group_url = page.url

    # Inviting: the same answer for a learner with an account and an unknown address; nobody joins yet.
    for email in (lotte.email, "nog.geen.account@example.org"):
        page.get_by_label("E-mailadres van de cursist").fill(email)
        page.get_by_role("button", name="Uitnodigen").click()
        expect(flash(page)).to_contain_text("De uitnodiging is verstuurd.")
    invited = page.get_by_role("table", name="Uitnodigingen")
    for email in (lotte.email, "nog.geen.account@example.org"):
        # Mailed but not yet handed to a mail server (nothing sends mail during this test): "verstuurd".
        expect(invited.get_by_role("row", name=re.compile(re.escape(email)))).to_contain_text("verstuurd")
    expect(page.get_by_role("link", name="Lotte Jansen")).to_have_count(0)
    assert_axe_clean(page, "group page with invitations")

    # A CSV with one bad row changes nothing.
    console.allow_status(400)
    status = upload_csv(page, f"email\n{bram.email}\ngeen-adres\n")
    assert status == 400
    expect(page.get_by_role("alert")).to_contain_text("Niets gewijzigd")
    report = page.get_by_role("table", name="Verslag per regel")
    expect(report.get_by_role("row", name=re.compile("geen-adres"))).to_contain_text("regel 3: geen geldig e-mailadres")
    assert_axe_clean(page, "CSV report, rejected")
    page.get_by_role("link", name="Terug naar de groep").click()
    expect(invited.get_by_role("row", name=re.compile(re.escape(bram.email)))).to_have_count(0)

    # A good CSV: every address invited alike.
    status = upload_csv(page, f"email\n{bram.email}\nanna@example.org\n")
    assert status == 200
    expect(page.get_by_role("status")).to_contain_text("Het bestand is verwerkt: 2 uitgenodigd, 0 al lid.")
    report = page.get_by_role("table", name="Verslag per regel")
    expect(report.get_by_role("row", name=re.compile("anna@example.org"))).to_contain_text("uitgenodigd")
    expect(report.get_by_role("row", name=re.compile(re.escape(bram.email)))).to_contain_text("uitgenodigd")
    assert_axe_clean(page, "CSV report, applied")
    page.get_by_role("link", name="Terug naar de groep").click()

    # Lotte and Bram accept (their side is tested in test_invitation_accept_flow); then they are in the group.
    with app.app_context():
        for user in (lotte, bram):
            learner_row = db.session.get(User, user.id)
            for invitation, _, _ in groups.pending_invitations_for(learner_row):
                groups.answer_invitation(invitation, learner_row, True, utcnow())
        db.session.commit()
    page.reload()
    expect(page.get_by_role("link", name="Lotte Jansen")).to_be_visible()
    expect(page.get_by_role("link", name="Bram de Boer")).to_be_visible()
    expect(invited.get_by_role("row", name=re.compile(re.escape(lotte.email)))).to_contain_text("geaccepteerd")

    # A due date for the whole group.
    due = (utcnow() + timedelta(days=21)).date()
    page.get_by_label("Afronden uiterlijk op").fill(due.isoformat())
    page.get_by_role("button", name="Deadline vastleggen voor de hele groep").click()
    expect(page).to_have_url(group_url)
    expect(flash(page)).to_have_text(f"Deadline vastgelegd: {nl_date(due, 'long')}.")
    learners = page.get_by_role("table", name=re.compile("^Cursisten"))
    expect(learners.get_by_role("row", name=re.compile("Lotte Jansen"))).to_contain_text(nl_date(due))
    assert_axe_clean(page, "group dashboard, small group")

    # A seeded group of 30: the dashboard with its filter and sort controls.
    catalog = app.extensions["catalog"]
    with app.app_context():
        seeded = seed_group(db.session.get(User, trainer.id), 30, catalog, name="Jeugdzorg Zuid")
        db.session.commit()
        members = sa.select(GroupMember.user_id).where(GroupMember.group_id == seeded.id).scalar_subquery()
        learner_id, used = db.session.execute(
            sa.select(Attempt.user_id, sa.func.count())
            .where(Attempt.quiz_id == "eindtoets", Attempt.mode == AttemptMode.GRADED, Attempt.user_id.in_(members))
            .group_by(Attempt.user_id)
            .order_by(sa.func.count().desc(), Attempt.user_id)
            .limit(1)
        ).one()
        learner_name = db.session.get(User, learner_id).display_name
    assert used >= 1

    main_menu(page).get_by_role("link", name="Mijn groepen").click()
    page.get_by_role("link", name="Jeugdzorg Zuid").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jeugdzorg Zuid")
    expect(page.get_by_text(re.compile(r"^30 cursisten:"))).to_be_visible()
    learners = page.get_by_role("table", name=re.compile("^Cursisten"))
    expect(learners.locator("tbody tr")).to_have_count(30)
    assert_axe_clean(page, "group dashboard, 30 learners")

    page.get_by_label("Status", exact=True).select_option("afgerond")
    page.get_by_label("Sorteer op").select_option("naam")
    page.get_by_label("Volgorde").select_option("aflopend")
    page.get_by_role("button", name="Toon").click()
    expect(page).to_have_url(re.compile(r"status=afgerond.*sorteer=naam.*volgorde=aflopend"))
    expect(page.get_by_label("Status", exact=True)).to_have_value("afgerond")
    names = learners.locator("tbody th[scope=row] a").all_inner_texts()
    assert names == sorted(names, reverse=True)
    assert_axe_clean(page, "group dashboard, filtered and sorted")

    page.get_by_label("Zoek op naam of e-mail").fill(learner_name)
    page.get_by_label("Status", exact=True).select_option("")
    page.get_by_role("button", name="Toon").click()
    expect(learners.locator("tbody tr")).to_have_count(1)
    expect(learners).to_have_accessible_name(re.compile(r"\(1 van 30 na filter\)"))
    expect(page.get_by_label("Zoek op naam of e-mail")).to_have_value(learner_name)
    assert learner_name.split()[-1].lower() not in unquote_plus(page.url).lower()  # posted, not in the URL

    # The learner's detail page: attempts and an extra attempt for the Eindtoets.
    learners.get_by_role("link", name=learner_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(learner_name)
    attempts = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Poging"))
    expect(attempts.get_by_role("row", name=re.compile("^Eindtoets"))).to_have_count(used)
    assert_axe_clean(page, "learner detail")

    reason = page.get_by_label(re.compile(r"^Reden voor een extra poging Eindtoets"))
    left_before = int(re.search(r"nu (\d+) over", reason.evaluate("el => el.labels[0].textContent")).group(1))
    reason.fill("Ziek tijdens de toetsweek")
    page.get_by_role("button", name="Extra poging Eindtoets").click()
    expect(flash(page)).to_have_text(f"{learner_name} heeft een extra poging voor Eindtoets.")
    expect(page.get_by_label(f"Reden voor een extra poging Eindtoets (nu {left_before + 1} over)")).to_be_visible()
    assert_axe_clean(page, "learner detail after an extra attempt")

    # Item analysis of the Eindtoets.
    page.get_by_role("navigation", name="Kruimelpad").get_by_role("link", name="Mijn groepen").click()
    page.get_by_role("region", name="Itemanalyse").get_by_role("link", name="Eindtoets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Itemanalyse: Eindtoets")
    page.get_by_label("Groep").select_option(label="Jeugdzorg Zuid")
    page.get_by_role("button", name="Toon").click()
    expect(page).to_have_url(re.compile(rf"groep={seeded.id}$"))
    expect(page.get_by_text(re.compile(r"^Berekend op .+ over \d+ afgeronde pogingen"))).to_be_visible()
    assert_axe_clean(page, "item analysis")

    # On a phone the wide tables scroll inside their box, never the page, and the keyboard can scroll them.
    page.set_viewport_size({"width": 375, "height": 800})
    assert_phone_friendly(page, "item analysis")
    answers = page.get_by_role("region", name=re.compile("^Gekozen antwoorden bij vraag")).first
    assert answers.evaluate("el => el.scrollWidth > el.clientWidth"), "the answer table does not scroll"
    tab_to(page, answers)
    page.keyboard.press("ArrowRight")
    expect(answers).not_to_have_js_property("scrollLeft", 0)
    page.goto(f"/trainer/groepen/{seeded.id}")
    assert_phone_friendly(page, "group dashboard")
    page.goto(f"/trainer/groepen/{seeded.id}/cursisten/{learner_id}")
    assert_phone_friendly(page, "learner detail")


def test_a_learner_joins_with_the_group_code_and_sees_the_deadline(page: Page, app: Flask, create_user) -> None:
    trainer = create_user(role=Role.TRAINER, name="Tineke Trainer")
    due = (utcnow() + timedelta(days=10)).date()
    with app.app_context():
        trainer_row = db.session.get(User, trainer.id)
        group = groups.create_group(trainer_row, "Pleegzorg Noord")
        groups.assign(group, app.extensions["catalog"].module.id, due, trainer_row)
        db.session.commit()
        code = group.enrolment_code
    log_in_as(page, create_user, Role.LEARNER, name="Sanne de Vries")
    expect(page.get_by_role("heading", name="Opdrachten van je trainer")).to_have_count(0)

    # Keyboard only from here: the link on the overview, the form, a wrong code, then the right one.
    main = page.get_by_role("main")
    tab_to(page, main.get_by_role("link", name="Sluit aan bij je groep"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(at_path("/groep-aansluiten"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Aansluiten bij een groep")
    page.wait_for_load_state()
    assert_axe_clean(page, "join form")

    code_field = page.get_by_label("Groepscode")
    tab_to(page, code_field)
    page.keyboard.type("ZZZZ-ZZZZ")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Deze code kennen we niet.")
    expect(code_field).to_have_attribute("aria-invalid", "true")
    expect(code_field).to_have_accessible_description(re.compile("Deze code kennen we niet"))
    page.wait_for_load_state()
    assert_axe_clean(page, "join form, wrong code")

    tab_to(page, code_field)
    page.keyboard.press("ControlOrMeta+A")
    # Lower case with a space, as someone might type it from a note.
    page.keyboard.type(f"{code[:5].lower()} {code[5:].lower()}")
    page.keyboard.press("Enter")

    expect(page).to_have_url(at_path("/"))
    expect(flash(page)).to_have_text("Je bent aangesloten bij de groep ‘Pleegzorg Noord’.")
    assignments = page.get_by_role("region", name="Opdrachten van je trainer")
    expect(assignments).to_contain_text(
        f"Tineke Trainer (Pleegzorg Noord): afronden uiterlijk op {nl_date(due, 'long')}"
    )
    expect(assignments.locator("strong")).to_have_text(nl_date(due, "long"))
    assert_axe_clean(page, "overview with a deadline")


def test_admin_pages_are_axe_clean_and_deactivation_ends_sessions(
    page: Page, visitor: Page, create_user, submit_login
) -> None:
    learner = create_user(name="Lotte Jansen", email="lotte@example.org")
    create_user(role=Role.TRAINER, name="Tineke Trainer", email="tineke@example.org")

    # The learner (`visitor`) is logged in elsewhere, in a browser of their own.
    sign_in(visitor, learner.email)
    visitor.goto("/account/profiel")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Mijn profiel")

    submit_login(page, create_user(role=Role.ADMIN, name="Anouk Admin").email)
    expect(page).to_have_url(at_path("/beheer/"))
    main_menu(page).get_by_role("link", name="Beheer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beheer")
    assert_axe_clean(page, "Beheer")

    page.get_by_role("main").get_by_role("link", name="Uitgaande mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Uitgaande mail")
    assert_axe_clean(page, "Uitgaande mail")
    page.go_back()

    page.get_by_role("main").get_by_role("link", name="Gebruikers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikers")
    users = page.get_by_role("table", name=re.compile("^Gebruikers"))
    expect(users.locator("tbody tr")).to_have_count(3)
    assert_axe_clean(page, "Gebruikers")

    page.get_by_label("Zoek op naam of e-mail").fill("lotte")
    page.get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(re.compile(r"/beheer/gebruikers$"))  # the term is posted, not in the URL
    expect(page.get_by_label("Zoek op naam of e-mail")).to_have_value("lotte")
    expect(users.locator("tbody tr")).to_have_count(1)
    expect(users.get_by_role("row", name=re.compile("Lotte Jansen"))).to_contain_text("Actief")
    assert_axe_clean(page, "Gebruikers, search result")

    users.get_by_role("link", name="Lotte Jansen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lotte Jansen")
    assert_axe_clean(page, "user detail")

    active = page.get_by_label(re.compile("^Account actief"))
    expect(active).to_be_checked()
    active.uncheck()
    page.get_by_role("button", name="Opslaan").click()
    expect(flash(page)).to_have_text("Opgeslagen: status gewijzigd.")
    expect(page.locator("dl.facts")).to_contain_text("Gedeactiveerd")
    expect(page.get_by_role("region", name="Logboek")).to_contain_text("Account gedeactiveerd door ")
    assert_axe_clean(page, "user detail after deactivation")

    # The learner's open session has ended: the next protected page asks them to log in.
    visitor.goto("/toetsen")
    expect(visitor).to_have_url(at_path("/inloggen"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Inloggen")
    expect(visitor.locator(".flashes")).to_have_text("Log in om deze pagina te bekijken.")
    expect(visitor.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Inloggen")).to_be_visible()

    page.get_by_role("navigation", name="Kruimelpad").get_by_role("link", name="Beheer").click()
    page.get_by_role("main").get_by_role("link", name="Logboek").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logboek")
    log = page.get_by_role("table", name="Gebeurtenissen, nieuwste eerst")
    expect(log.get_by_role("row", name=re.compile("Account gedeactiveerd"))).to_contain_text(learner.display_name)
    assert_axe_clean(page, "Logboek")
    page.get_by_label("Actie").select_option("user.deactivate")
    page.get_by_role("button", name="Toon").click()
    expect(log.locator("tbody tr")).to_have_count(1)
    assert_axe_clean(page, "Logboek, filtered")
    page.set_viewport_size({"width": 375, "height": 800})
    assert_phone_friendly(page, "Logboek")


def test_a_forgotten_password_gets_a_temporary_one_and_then_an_own_one(
    page: Page, visitor: Page, create_user, submit_login
) -> None:
    learner = create_user(name="Lotte Jansen", email="lotte@example.org")
    submit_login(page, create_user(role=Role.ADMIN, name="Anouk Admin").email)
    expect(page).to_have_url(at_path("/beheer/"))
    page.goto(f"/beheer/gebruikers/{learner.id}")
    assert_axe_clean(page, "user detail with the temporary password section")
    page.get_by_role("button", name="Tijdelijk wachtwoord maken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tijdelijk wachtwoord voor Lotte Jansen")
    temporary = page.locator(".temporary-password code").inner_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", temporary)
    assert temporary not in page.url
    assert_axe_clean(page, "temporary password shown to the admin")
    page.set_viewport_size({"width": 375, "height": 800})
    assert_phone_friendly(page, "temporary password shown to the admin")

    visitor.goto("/inloggen")
    visitor.get_by_label("E-mailadres").fill(learner.email)
    visitor.get_by_label("Wachtwoord", exact=True).fill(temporary)
    visitor.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(visitor).to_have_url(at_path("/account/wachtwoord"))
    expect(visitor.get_by_role("status")).to_contain_text("tijdelijk wachtwoord van de beheerder")
    assert_axe_clean(visitor, "password change required after a temporary password")
    main_menu(visitor).get_by_role("link", name="Toetsen").click()
    expect(visitor).to_have_url(at_path("/account/wachtwoord"))  # nothing else until then

    visitor.get_by_label("Huidig wachtwoord").fill(temporary)
    visitor.get_by_label("Nieuw wachtwoord", exact=True).fill("haar-eigen-wolkenkrabber-wachtwoord")
    visitor.get_by_label("Herhaal nieuw wachtwoord").fill("haar-eigen-wolkenkrabber-wachtwoord")
    visitor.get_by_role("main").get_by_role("button", name="Wachtwoord wijzigen").click()
    expect(visitor).to_have_url(at_path("/"))
    expect(flash(visitor)).to_contain_text("Je wachtwoord is gewijzigd.")
    main_menu(visitor).get_by_role("link", name="Toetsen").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Toetsen")


def test_a_learner_downloads_their_data_and_erases_the_account(page: Page, console, create_user) -> None:
    learner = log_in_as(page, create_user, Role.LEARNER, name="Sanne de Vries", email="sanne@example.org")

    main_menu(page).get_by_role("link", name="Profiel").click()
    page.get_by_role("link", name="Mijn gegevens downloaden of mijn account verwijderen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn gegevens")
    assert_axe_clean(page, "Mijn gegevens")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download mijn gegevens (JSON)").click()
    download = download_info.value
    assert download.suggested_filename == "mijn-gegevens-hechtwijzer.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["account"]["email"] == learner.email
    assert data["account"]["display_name"] == "Sanne de Vries"

    # A wrong password erases nothing.
    console.allow_status(400)
    page.get_by_label("Je wachtwoord, ter bevestiging").fill("niet mijn wachtwoord")
    page.get_by_label("Ik begrijp dat mijn account en mijn gegevens definitief worden verwijderd.").check()
    with page.expect_response(lambda r: r.url.endswith("/account/verwijderen")) as response:
        page.get_by_role("button", name="Account definitief verwijderen").click()
    assert response.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Dit wachtwoord klopt niet.")
    expect(page.get_by_label("Je wachtwoord, ter bevestiging")).to_have_attribute("aria-invalid", "true")
    assert_axe_clean(page, "Mijn gegevens, wrong password")

    page.get_by_label("Je wachtwoord, ter bevestiging").fill(PASSWORD)
    page.get_by_label("Ik begrijp dat mijn account en mijn gegevens definitief worden verwijderd.").check()
    page.get_by_role("button", name="Account definitief verwijderen").click()
    expect(page).to_have_url(at_path("/"))
    expect(flash(page).locator(".flash-info")).to_have_text(
        "Je account en je gegevens zijn verwijderd. Je certificaten blijven controleerbaar (naam, module, datum)."
    )
    expect(page.get_by_role("heading", name="Aan de slag")).to_be_visible()
    expect(main_menu(page).get_by_role("link", name="Inloggen")).to_be_visible()

    # The account is gone: logging in again fails.
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(learner.email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert")).to_contain_text("E-mailadres of wachtwoord klopt niet.")
    expect(page).to_have_url(at_path("/inloggen"))
    expect(main_menu(page).get_by_role("link", name="Profiel")).to_have_count(0)
